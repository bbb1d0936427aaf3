// The cluster core: a sans-IO state machine. `step(input, now)` is the only
// entry; `now` is this node's wall clock in ms (it may be skewed or step
// back). No socket, timer, clock or random source lives here, so the same
// code runs under the UDP edge and under the deterministic simulator.
//
// Two clocks inside, both fed by `now`:
// - the HLC (hlc.ts) stamps events, heartbeats and subscription versions;
//   the high-water of every stamp issued is persisted, so a restart never
//   issues a time at or below one already announced (floors stay true);
// - the "awake" clock advances by the time between steps, capped at one
//   heartbeat: it measures silence and timeouts. A core stalled for a while
//   (GC, a busy event loop: timers fire before the queued frames are read)
//   therefore does not count its own stall against its peers, and a wall
//   clock stepping back stalls nothing.
//
// Guarantees (the simulator's checker asserts them): per-origin FIFO without
// gaps, no duplicates, nothing recorded by an origin lost by a node that stays
// up, and every live node delivers the same `agreed` sequence once events
// flagged late are set aside (ordering.ts, membership.ts, anti-entropy.ts).

import { format, parse, receive, tick, type HlcTime } from '../../hlc.js';
import { Progress } from './anti-entropy.js';
import { resolveClusterConfig, type ClusterConfig } from './config.js';
import type { ClusterEvent, EventsFrame, Frame, HeartbeatFrame, Json, PullFrame, SubscriptionEntry, SubscriptionsFrame } from './frames.js';
import type { CoreInput, CoreOutput } from './io.js';
import { LeaseAcks } from './lease.js';
import { LwwMap } from './lww-map.js';
import { Membership } from './membership.js';
import { AgreedQueue, minFloor } from './ordering.js';
import type { CoreMeta, CoreStore } from './store.js';

/** Heartbeats between two joins to the seeds once peers are known. */
const reseedEvery = 10;

export class ClusterCore {
  readonly config: Readonly<ClusterConfig>;
  private readonly meta: CoreMeta;
  private metaDirty = true;
  private clock: HlcTime;
  private readonly membership: Membership;
  private readonly progress: Progress;
  private readonly agreed: AgreedQueue;
  private readonly subs: LwwMap;
  private readonly leaseAcks = new LeaseAcks();
  private awake = 0;
  private lastNow: number | undefined;
  private nextHeartbeatAt = 0;
  private lastReport = '';
  private heartbeats = 0;
  /** Awake time before which no new subscription digest goes to a peer. */
  private readonly subsSyncAfter = new Map<string, number>();

  constructor(readonly name: string, config: Partial<ClusterConfig>, private readonly store: CoreStore) {
    this.config = resolveClusterConfig(config);
    const stored = store.meta();
    // Every start is a new incarnation: frames of the previous life can be told apart.
    this.meta = {
      incarnation: (stored?.incarnation ?? -1) + 1,
      seq: stored?.seq ?? 0,
      hlc: stored?.hlc ?? format({ wall: 0, logical: 0 }),
      released: stored?.released ?? null,
    };
    this.clock = parse(this.meta.hlc);
    this.membership = new Membership(name, this.meta.incarnation, store.members(), this.config.suspectAfterMs);
    this.progress = new Progress(store.progress());
    this.progress.setHeld(name, this.meta.seq);
    this.agreed = new AgreedQueue(this.meta.released);
    for (const origin of this.progress.origins()) {
      for (const event of store.events(origin, 1, this.progress.held(origin))) {
        if (event.order === 'agreed' && !this.agreed.atOrBelowReleased(event)) this.agreed.add(event);
      }
    }
    this.subs = new LwwMap(store.subscriptions());
    this.flush();
  }

  /** The current view (sorted names). */
  view(): string[] {
    return [...this.membership.view()];
  }

  get incarnation(): number {
    return this.meta.incarnation;
  }

  /** Live subscription values of the replicated map. */
  subscriptions(): { id: string; value: Json }[] {
    return this.subs.values();
  }

  step(input: CoreInput, now: number): CoreOutput[] {
    const out: CoreOutput[] = [];
    if (this.lastNow !== undefined) this.awake += Math.min(Math.max(now - this.lastNow, 0), this.config.heartbeatMs);
    this.lastNow = now;
    switch (input.type) {
      case 'tick':
        this.onTick(now, out);
        break;
      case 'frame':
        this.onFrame(input.frame, now, out);
        break;
      case 'localEvent':
        this.record(input.order, input.payload, now, out);
        break;
      case 'subscriptionPut':
        this.writeSubscription(input.id, input.value, now, out);
        break;
      case 'subscriptionDelete':
        this.writeSubscription(input.id, null, now, out);
        break;
    }
    this.release(out);
    this.flush();
    return out;
  }

  // --- time ---------------------------------------------------------------

  /** A fresh HLC time to announce; the high-water is persisted with this step. */
  private issue(now: number): string {
    this.clock = tick(this.clock, now);
    this.meta.hlc = format(this.clock);
    this.metaDirty = true;
    return this.meta.hlc;
  }

  private observe(remote: string, now: number): void {
    this.clock = receive(this.clock, parse(remote), now);
  }

  // --- inputs ---------------------------------------------------------------

  private onTick(now: number, out: CoreOutput[]): void {
    const report = this.membership.localReport(this.awake);
    const change = this.membership.evaluate(report);
    if (change !== undefined) out.push({ type: 'viewChange', ...change });
    const signature = `${report.reach.map((r) => `${r.name}@${r.incarnation}`).sort().join(',')}|${report.unreach.sort().join(',')}`;
    // A changed suspicion report goes out at once: detection then costs one hop, not one heartbeat more.
    if (this.awake >= this.nextHeartbeatAt || signature !== this.lastReport) {
      this.lastReport = signature;
      this.nextHeartbeatAt = this.awake + this.config.heartbeatMs;
      const frame = this.heartbeat(now, report);
      for (const peer of this.membership.peers()) out.push({ type: 'send', to: peer, frame });
      // Seeds are asked every heartbeat while no peer is known, and every few heartbeats after: two
      // groups that formed apart (seeds down at start, a partition at bootstrap) then find each other.
      this.heartbeats += 1;
      if (this.membership.peers().length === 0 || this.heartbeats % reseedEvery === 0) {
        for (const address of this.config.seeds) out.push({ type: 'sendSeed', address, frame: this.header('join', {}) });
      }
    }
  }

  private heartbeat(now: number, report = this.membership.localReport(this.awake)): HeartbeatFrame {
    return {
      type: 'heartbeat',
      from: this.name,
      incarnation: this.meta.incarnation,
      hlc: this.issue(now),
      seq: this.meta.seq,
      progress: this.progress.digest(this.name),
      view: this.membership.viewRefs(),
      down: this.membership.downRefs(),
      joining: this.membership.joiningRefs(),
      reach: report.reach,
      unreach: report.unreach,
      subs: this.subs.hash(),
      beat: this.leaseAcks.nextBeat(),
      acks: this.leaseAcks.acks(),
    };
  }

  private onFrame(frame: Frame, now: number, out: CoreOutput[]): void {
    if (frame.from === this.name) return;
    this.membership.heard(frame.from, frame.incarnation, this.awake);
    switch (frame.type) {
      case 'heartbeat':
        this.onHeartbeat(frame, now, out);
        break;
      case 'join':
        // Answer at once, so the joiner learns names, view and subscriptions without waiting a period.
        out.push({ type: 'send', to: frame.from, frame: this.heartbeat(now) });
        out.push({ type: 'send', to: frame.from, frame: this.header('subs-digest', { versions: this.subs.digest() }) });
        break;
      case 'events':
        this.onEvents(frame, now, out);
        break;
      case 'pull':
        this.onPull(frame, out);
        break;
      case 'subs-digest': {
        const { give, want } = this.subs.compare(frame.versions);
        if (give.length > 0 || want.length > 0) out.push({ type: 'send', to: frame.from, frame: this.header('subs', { entries: give, want }) });
        break;
      }
      case 'subs':
        this.onSubscriptions(frame, now, out);
        break;
    }
  }

  private onHeartbeat(frame: HeartbeatFrame, now: number, out: CoreOutput[]): void {
    this.observe(frame.hlc, now);
    this.membership.report(frame.from, frame.hlc, frame.reach, frame.unreach);
    const acked = this.leaseAcks.onHeartbeat(frame.from, frame.incarnation, frame.beat, frame.acks, this.name, this.meta.incarnation);
    if (acked !== undefined) out.push({ type: 'leaseAck', from: frame.from, beat: acked });
    for (const ref of frame.view) this.membership.know(ref, this.awake);
    for (const ref of frame.down) this.membership.know(ref, this.awake);
    for (const ref of frame.joining) this.membership.know(ref, this.awake);
    const rejoinAs = this.membership.refutation(frame.down);
    if (rejoinAs !== undefined) {
      // Declared down while alive: rejoin with a higher incarnation, announced with the next tick.
      this.meta.incarnation = rejoinAs;
      this.metaDirty = true;
      this.membership.setIncarnation(rejoinAs);
      this.lastReport = '';
    }
    this.progress.claim(frame.from, { hlc: frame.hlc, seq: frame.seq });
    this.progress.advertise(frame.from, frame.from, frame.seq);
    for (const entry of frame.progress) {
      if (entry.origin === this.name) continue;
      this.progress.advertise(frame.from, entry.origin, entry.seq);
      if (entry.claim !== undefined) this.progress.claim(entry.origin, entry.claim);
    }
    this.pullFrom(frame.from, out);
    if (frame.subs !== this.subs.hash() && (this.subsSyncAfter.get(frame.from) ?? 0) <= this.awake) {
      this.subsSyncAfter.set(frame.from, this.awake + 2 * this.config.heartbeatMs);
      out.push({ type: 'send', to: frame.from, frame: this.header('subs-digest', { versions: this.subs.digest() }) });
    }
  }

  private onEvents(frame: EventsFrame, now: number, out: CoreOutput[]): void {
    const touched = new Set<string>();
    for (const event of frame.events) {
      // Own events come only from the own store; a peer holding more of them means a lost store (not supported).
      if (event.origin === this.name || event.seq <= this.progress.held(event.origin)) continue;
      this.observe(event.hlc, now);
      this.store.putEvent(event);
      this.progress.advertise(frame.from, event.origin, event.seq);
      touched.add(event.origin);
    }
    for (const origin of touched) this.advance(origin, out);
    // Past a gap, or a batch of a longer catch-up: ask the sender for what follows.
    this.pullFrom(frame.from, out);
  }

  private onPull(frame: PullFrame, out: CoreOutput[]): void {
    const toSeq = Math.min(frame.toSeq, frame.fromSeq + this.config.maxEventsPerFrame - 1);
    const events = this.store.events(frame.origin, frame.fromSeq, toSeq);
    if (events.length > 0) out.push({ type: 'send', to: frame.from, frame: this.header('events', { events }) });
  }

  private onSubscriptions(frame: SubscriptionsFrame, now: number, out: CoreOutput[]): void {
    for (const entry of frame.entries) {
      this.observe(entry.version.hlc, now);
      this.applySubscription(entry, out);
    }
    if (frame.want.length > 0) {
      const entries = frame.want.map((id) => this.subs.get(id)).filter((e): e is SubscriptionEntry => e !== undefined);
      if (entries.length > 0) out.push({ type: 'send', to: frame.from, frame: this.header('subs', { entries, want: [] }) });
    }
  }

  private record(order: 'fifo' | 'agreed', payload: Json, now: number, out: CoreOutput[]): void {
    const event: ClusterEvent = { origin: this.name, seq: this.meta.seq + 1, hlc: this.issue(now), order, payload };
    // Persisted (same step, same transaction) before the push below leaves the node.
    this.store.putEvent(event);
    this.meta.seq = event.seq;
    this.store.setProgress(this.name, event.seq);
    this.progress.setHeld(this.name, event.seq);
    out.push({ type: 'recorded', event });
    this.accept(event, out);
    const frame = this.header('events', { events: [event] });
    for (const peer of this.membership.peers()) out.push({ type: 'send', to: peer, frame });
  }

  private writeSubscription(id: string, value: Json | null, now: number, out: CoreOutput[]): void {
    const entry: SubscriptionEntry = { id, version: { hlc: this.issue(now), node: this.name }, value };
    this.applySubscription(entry, out);
    const frame = this.header('subs', { entries: [entry], want: [] });
    for (const peer of this.membership.peers()) out.push({ type: 'send', to: peer, frame });
  }

  // --- delivery ---------------------------------------------------------------

  /** Moves held(origin) over every stored event that now follows without a gap, delivering or queueing each in seq order. */
  private advance(origin: string, out: CoreOutput[]): void {
    const start = this.progress.held(origin);
    let held = start;
    for (let next = this.store.event(origin, held + 1); next !== undefined; next = this.store.event(origin, held + 1)) {
      held += 1;
      this.accept(next, out);
    }
    if (held === start) return;
    this.progress.setHeld(origin, held);
    this.store.setProgress(origin, held);
  }

  private accept(event: ClusterEvent, out: CoreOutput[]): void {
    if (event.order === 'fifo') out.push({ type: 'deliver', event, late: false });
    else if (this.agreed.atOrBelowReleased(event)) out.push({ type: 'deliver', event, late: true });
    else this.agreed.add(event);
  }

  /**
   * Releases queued agreed events up to the minimum floor over the view. Own
   * floor: the persisted HLC high-water (every own event at or below it is
   * held, and no later one can get a time at or below it, even after a crash).
   */
  private release(out: CoreOutput[]): void {
    if (this.agreed.size === 0) return;
    const bound = minFloor(this.membership.view().map((m) => (m === this.name ? this.meta.hlc : this.progress.floor(m))));
    if (bound === undefined) return;
    const batch = this.agreed.releaseUpTo(bound);
    if (batch.length === 0) return;
    for (const event of batch) out.push({ type: 'deliver', event, late: false });
    this.meta.released = this.agreed.released;
    this.metaDirty = true;
  }

  // --- helpers --------------------------------------------------------------

  private pullFrom(peer: string, out: CoreOutput[]): void {
    const { maxEventsPerFrame, pullTimeoutMs } = this.config;
    for (const plan of this.progress.pullsFrom(peer, this.name, this.awake, maxEventsPerFrame, pullTimeoutMs)) {
      out.push({ type: 'send', to: peer, frame: this.header('pull', plan) });
    }
  }

  private applySubscription(entry: SubscriptionEntry, out: CoreOutput[]): void {
    if (!this.subs.merge(entry)) return;
    this.store.setSubscription(entry);
    out.push({ type: 'subscriptionChange', id: entry.id, value: entry.value });
  }

  private header<T extends Frame['type'], B extends object>(type: T, body: B): { type: T; from: string; incarnation: number } & B {
    return { type, from: this.name, incarnation: this.meta.incarnation, ...body };
  }

  /** Writes what changed in this step (the edge commits it before acting on the outputs). */
  private flush(): void {
    if (this.metaDirty) {
      this.store.setMeta({ ...this.meta });
      this.metaDirty = false;
    }
    for (const member of this.membership.takeDirty()) this.store.setMember(member);
  }
}

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
// up, and one agreed order: every node delivers agreed events only at
// positions committed by a primary component, so the agreed deliveries of
// every node are a prefix of one sequence (sequencer.ts, membership.ts,
// anti-entropy.ts).

import { format, parse, receive, tick, type HlcTime } from '../../hlc.js';
import { Progress } from './anti-entropy.js';
import { resolveClusterConfig, type ClusterConfig } from './config.js';
import type { ClusterEvent, EventsFrame, Frame, HeartbeatFrame, OrderFrame, IdentityFrame, Json, PullFrame, SubscriptionEntry, SubscriptionsFrame } from './frames.js';
import { IdentityRecovery, type RecoveryOutcome } from './identity-recovery.js';
import type { CoreInput, CoreOutput } from './io.js';
import { LeaseAcks } from './lease.js';
import { LwwMap } from './lww-map.js';
import { Membership } from './membership.js';
import { Sequencer } from './sequencer.js';
import type { CoreMeta, CoreStore } from './store.js';

/** Heartbeats between two joins to the seeds once peers are known. */
const reseedEvery = 10;
/** Lifeguard's cap on the local health score: a slow node accuses after at most (1 + this) x suspectAfterMs. */
const maxHealth = 4;

export class ClusterCore {
  readonly config: Readonly<ClusterConfig>;
  private readonly meta: CoreMeta;
  private metaDirty = true;
  private clock: HlcTime;
  private readonly membership: Membership;
  private readonly progress: Progress;
  private readonly sequencer: Sequencer;
  /** Peers whose configured-set hash differs from this node's, with the hash last said. */
  private readonly configuredDiffers = new Map<string, string>();
  private readonly subs: LwwMap;
  private readonly leaseAcks = new LeaseAcks();
  private awake = 0;
  private lastNow: number | undefined;
  /** `now` of the last tick input, and the local health score (0 healthy, up to maxHealth): see onTick. */
  private lastTickNow: number | undefined;
  private health = 0;
  private nextHeartbeatAt = 0;
  private lastReport = '';
  private heartbeats = 0;
  /** Awake time before which no new subscription digest goes to a peer. */
  private readonly subsSyncAfter = new Map<string, number>();
  /** Set while a node that started with an empty store learns its identity from its peers (identity-recovery.ts). */
  private recovery: IdentityRecovery | undefined;
  /** After recovery: own events up to meta.seq still to pull back, and the awake time to give up at. */
  private ownBehind: { until: number } | undefined;
  private nextJoinAt = 0;
  /** Per peer: the highest own seq it said it holds (heartbeats, pulls); see `pushTo`. */
  private readonly acked = new Map<string, number>();

  constructor(readonly name: string, config: Partial<ClusterConfig>, private readonly store: CoreStore) {
    this.config = resolveClusterConfig(config);
    const stored = store.meta();
    // An empty store with peers to ask: issue nothing until they said who we were.
    if (stored === undefined && this.config.seeds.length > 0) {
      this.recovery = new IdentityRecovery(name, this.config.seeds.length, this.config.heartbeatMs, this.config.identityWaitMs);
    }
    // Every start is a new incarnation: frames of the previous life can be told apart.
    this.meta = {
      incarnation: (stored?.incarnation ?? -1) + 1,
      seq: stored?.seq ?? 0,
      hlc: stored?.hlc ?? format({ wall: 0, logical: 0 }),
      ...(stored?.order === undefined ? {} : { order: stored.order }),
    };
    this.clock = parse(this.meta.hlc);
    this.membership = new Membership(name, this.meta.incarnation, store.members(), this.config.suspectAfterMs);
    this.progress = new Progress(store.progress());
    this.progress.setHeld(name, this.meta.seq);
    this.sequencer = new Sequencer({
      self: name,
      quorum: this.config.configuredNodes,
      heartbeatMs: this.config.heartbeatMs,
      suspectAfterMs: this.config.suspectAfterMs,
      store,
      awake: () => this.awake,
      view: () => this.membership.view(),
      peers: () => this.membership.peers(),
      held: (origin) => this.progress.held(origin),
      issue: () => this.issue(this.lastNow ?? 0),
      send: (to, frame, out) => out.push({ type: 'send', to, frame }),
      frame: (type, body) => this.header(type, body),
    }, stored?.order);
    // Held agreed events without a position wait for one (the sequencer skips those already placed).
    for (const origin of this.progress.origins()) {
      for (const event of store.events(origin, 1, this.progress.held(origin))) if (event.order === 'agreed') this.sequencer.held(event);
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

  /** False while identity recovery runs (identity-recovery.ts): no local event or subscription write may be stepped in. */
  get ready(): boolean {
    return this.recovery === undefined && this.ownBehind === undefined;
  }

  /** Live subscription values of the replicated map. */
  subscriptions(): { id: string; value: Json }[] {
    return this.subs.values();
  }

  step(input: CoreInput, now: number): CoreOutput[] {
    const out: CoreOutput[] = [];
    if (this.lastNow !== undefined) this.awake += Math.min(Math.max(now - this.lastNow, 0), this.config.heartbeatMs);
    this.lastNow = now;
    if (this.recovery !== undefined) {
      this.stepRecovering(this.recovery, input, now, out);
      this.flush();
      return out;
    }
    if ((input.type === 'localEvent' || input.type === 'subscriptionPut' || input.type === 'subscriptionDelete') && !this.ready) {
      throw new Error(`cluster core ${this.name}: ${input.type} before its identity was recovered (wait for ready)`);
    }
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
    this.sequencer.run(out);
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
    if (this.ownBehind !== undefined && this.awake >= this.ownBehind.until) this.ownEventsDone('own-events-lost', out);
    // Local health (memberlist's Lifeguard): a tick later than a third of the suspicion window (they
    // are due every quarter heartbeat) means this node's own loop is slow for what it must judge; each
    // raises the score, each heartbeat sent on time lowers it. The score stretches only this node's
    // accusations (membership.ts). Measured against suspicion, not the heartbeat: a short heartbeat
    // (for the leases) must not make every 100 ms hiccup of a loaded machine count as sickness.
    const late = this.lastTickNow !== undefined && now - this.lastTickNow > this.config.suspectAfterMs / 3;
    this.lastTickNow = now;
    if (late) this.health = Math.min(maxHealth, this.health + 1);
    const report = this.membership.localReport(this.awake, this.health);
    const change = this.membership.evaluate(report);
    if (change !== undefined) out.push({ type: 'viewChange', ...change });
    // Every tick, not only with a heartbeat: a new sequencer opens its epoch within a tick of the view
    // change that made it one (its timers are its own: beats, resends), and commits are told at once.
    this.sequencer.tick(out);
    this.sequencer.noticeCommit(out);
    const signature = `${report.reach.map((r) => `${r.name}@${r.incarnation}`).sort().join(',')}|${report.unreach.sort().join(',')}`;
    // A changed suspicion report goes out at once: detection then costs one hop, not one heartbeat more.
    if (this.awake >= this.nextHeartbeatAt || signature !== this.lastReport) {
      this.lastReport = signature;
      this.nextHeartbeatAt = this.awake + this.config.heartbeatMs;
      if (!late && this.health > 0) this.health -= 1;
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

  private heartbeat(now: number, report = this.membership.localReport(this.awake, this.health)): HeartbeatFrame {
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
      committed: this.sequencer.committed,
      configured: this.config.configuredHash,
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
        out.push({ type: 'send', to: frame.from, frame: this.identityOf(frame.from) });
        break;
      case 'identity':
        break;
      case 'ack': {
        const acked = this.leaseAcks.onHeartbeat(frame.from, frame.incarnation, undefined, [frame.ack], this.name, this.meta.incarnation);
        if (acked !== undefined) out.push({ type: 'leaseAck', from: frame.from, beat: acked });
        break;
      }
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
      default:
        this.onOrder(frame, out);
    }
  }

  private onOrder(frame: OrderFrame, out: CoreOutput[]): void {
    this.sequencer.onFrame(frame, out);
  }

  private onHeartbeat(frame: HeartbeatFrame, now: number, out: CoreOutput[]): void {
    this.observe(frame.hlc, now);
    this.membership.report(frame.from, frame.hlc, frame.reach, frame.unreach);
    const before = this.leaseAcks.ackOf(frame.from);
    const acked = this.leaseAcks.onHeartbeat(frame.from, frame.incarnation, frame.beat, frame.acks, this.name, this.meta.incarnation);
    if (acked !== undefined) out.push({ type: 'leaseAck', from: frame.from, beat: acked });
    // A new beat is answered at once (AckFrame): the sender's lease then rests on an ack one round trip old.
    const after = this.leaseAcks.ackOf(frame.from);
    if (after !== undefined && (before === undefined || after.incarnation !== before.incarnation || after.beat !== before.beat)) {
      out.push({ type: 'send', to: frame.from, frame: this.header('ack', { ack: after }) });
    }
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
      if (entry.origin === this.name) {
        this.ack(frame.from, entry.seq);
        // Own events held by a peer: only wanted while pulling them back after a lost store.
        if (this.ownBehind !== undefined) this.progress.advertise(frame.from, entry.origin, Math.min(entry.seq, this.meta.seq));
        continue;
      }
      this.progress.advertise(frame.from, entry.origin, entry.seq);
      if (entry.claim !== undefined) this.progress.claim(entry.origin, entry.claim);
    }
    this.pullFrom(frame.from, out);
    if (frame.committed !== undefined) this.sequencer.peerCommitted(frame.from, frame.committed, out);
    if (frame.configured !== undefined && frame.configured !== this.config.configuredHash && this.configuredDiffers.get(frame.from) !== frame.configured) {
      this.configuredDiffers.set(frame.from, frame.configured);
      out.push({ type: 'configuredSetDiffers', from: frame.from, theirs: frame.configured, ours: this.config.configuredHash });
    }
    if (frame.subs !== this.subs.hash() && (this.subsSyncAfter.get(frame.from) ?? 0) <= this.awake) {
      this.subsSyncAfter.set(frame.from, this.awake + 2 * this.config.heartbeatMs);
      out.push({ type: 'send', to: frame.from, frame: this.header('subs-digest', { versions: this.subs.digest() }) });
    }
  }

  private onEvents(frame: EventsFrame, now: number, out: CoreOutput[]): void {
    /** Per origin, the events this frame stored, by seq: advance takes them from here instead of reading them back. */
    const touched = new Map<string, Map<number, ClusterEvent>>();
    for (const event of frame.events) {
      if (event.seq <= this.progress.held(event.origin)) continue;
      // Own events come from the own store, but after a lost store from the peers (up to the recovered seq).
      if (event.origin === this.name && (this.ownBehind === undefined || event.seq > this.meta.seq)) continue;
      this.observe(event.hlc, now);
      this.store.putEvent(event);
      this.progress.advertise(frame.from, event.origin, event.seq);
      let stored = touched.get(event.origin);
      if (stored === undefined) touched.set(event.origin, (stored = new Map()));
      stored.set(event.seq, event);
    }
    for (const [origin, stored] of touched) this.advance(origin, out, stored);
    if (this.ownBehind !== undefined && this.progress.held(this.name) >= this.meta.seq) this.ownEventsDone('own-events-back', out);
    // Past a gap, or a batch of a longer catch-up: ask the sender for what follows.
    this.pullFrom(frame.from, out);
  }

  private onPull(frame: PullFrame, out: CoreOutput[]): void {
    if (frame.origin === this.name) this.ack(frame.from, frame.fromSeq - 1);
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
    for (const peer of this.membership.peers()) if (this.pushTo(peer, event.seq)) out.push({ type: 'send', to: peer, frame });
  }

  /**
   * Flow control: a new event is pushed to a peer only while that peer is at
   * most pushWindowEvents behind (by what it last said it holds). A slower
   * peer gets no more pushes, so it is not flooded past its socket buffer; it
   * pulls what it lacks (heartbeats advertise our seq) at its own pace, one
   * batch after another, and gets pushes again once it has caught up.
   */
  private pushTo(peer: string, seq: number): boolean {
    return seq - (this.acked.get(peer) ?? 0) <= this.config.pushWindowEvents;
  }

  private ack(peer: string, seq: number): void {
    if (seq > (this.acked.get(peer) ?? 0)) this.acked.set(peer, seq);
  }

  private writeSubscription(id: string, value: Json | null, now: number, out: CoreOutput[]): void {
    const entry: SubscriptionEntry = { id, version: { hlc: this.issue(now), node: this.name }, value };
    this.applySubscription(entry, out);
    const frame = this.header('subs', { entries: [entry], want: [] });
    for (const peer of this.membership.peers()) out.push({ type: 'send', to: peer, frame });
  }

  // --- delivery ---------------------------------------------------------------

  /**
   * Moves held(origin) over every stored event that now follows without a gap, delivering or queueing each in seq order.
   * `stored`: events this step just stored (an event at held + 1 cannot have been stored before: it would be held).
   */
  private advance(origin: string, out: CoreOutput[], stored?: ReadonlyMap<number, ClusterEvent>): void {
    const start = this.progress.held(origin);
    let held = start;
    const next = (seq: number): ClusterEvent | undefined => stored?.get(seq) ?? this.store.event(origin, seq);
    for (let event = next(held + 1); event !== undefined; event = next(held + 1)) {
      held += 1;
      this.accept(event, out);
    }
    if (held === start) return;
    this.progress.setHeld(origin, held, this.awake);
    this.store.setProgress(origin, held);
  }

  private accept(event: ClusterEvent, out: CoreOutput[]): void {
    if (event.order === 'fifo') out.push({ type: 'deliver', event });
    else this.sequencer.held(event);
  }

  // --- helpers --------------------------------------------------------------

  private pullFrom(peer: string, out: CoreOutput[]): void {
    const { maxEventsPerFrame, pullTimeoutMs } = this.config;
    const skip = this.ownBehind === undefined ? this.name : undefined;
    for (const plan of this.progress.pullsFrom(peer, skip, this.awake, maxEventsPerFrame, pullTimeoutMs)) {
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

  // --- identity recovery (identity-recovery.ts) ------------------------------

  /** A step while recovering: ask the seeds, collect answers, answer joins; nothing else happens. */
  private stepRecovering(recovery: IdentityRecovery, input: CoreInput, now: number, out: CoreOutput[]): void {
    if (input.type === 'frame') {
      if (input.frame.type === 'identity') recovery.answer(input.frame, this.awake);
      // A heartbeat says the same as an identity answer (what its sender knows of us), from a peer we did not ask.
      else if (input.frame.type === 'heartbeat') recovery.answer(identityIn(input.frame, this.name), this.awake);
      // A peer recovering too (a whole cluster's first start) must hear that we know nothing of it.
      else if (input.frame.type === 'join' && input.frame.from !== this.name) out.push({ type: 'send', to: input.frame.from, frame: this.identityOf(input.frame.from) });
    } else if (input.type !== 'tick') {
      throw new Error(`cluster core ${this.name}: ${input.type} before its identity was recovered (wait for ready)`);
    }
    const outcome = recovery.settle(this.awake, now);
    if (outcome !== undefined) {
      this.finishRecovery(outcome, now, out);
      return;
    }
    if (input.type === 'tick' && this.awake >= this.nextJoinAt) {
      this.nextJoinAt = this.awake + this.config.heartbeatMs;
      for (const address of this.config.seeds) out.push({ type: 'sendSeed', address, frame: this.header('join', {}) });
    }
  }

  private finishRecovery(outcome: RecoveryOutcome, now: number, out: CoreOutput[]): void {
    this.recovery = undefined;
    this.metaDirty = true;
    this.lastReport = '';
    this.nextHeartbeatAt = this.awake;
    if (outcome.kind === 'alone') {
      this.meta.incarnation = outcome.incarnation;
      this.membership.setIncarnation(outcome.incarnation);
      out.push({ type: 'identity', stage: 'alone', incarnation: outcome.incarnation, seq: 0, answered: [] });
      return;
    }
    this.meta.incarnation = outcome.incarnation;
    this.membership.setIncarnation(outcome.incarnation);
    this.meta.seq = outcome.seq;
    // The clock resumes above every own HLC a peer told of, so floors claimed in the earlier life stay true.
    for (const hlc of outcome.hlcs) this.observe(hlc, now);
    this.meta.hlc = format(this.clock);
    out.push({ type: 'identity', stage: 'recovered', incarnation: outcome.incarnation, seq: outcome.seq, answered: outcome.answered });
    if (outcome.seq === 0) return;
    this.ownBehind = { until: this.awake + this.config.identityWaitMs };
    for (const [peer, held] of outcome.holders) this.progress.advertise(peer, this.name, held);
    for (const peer of outcome.holders.keys()) this.pullFrom(peer, out);
  }

  /** Own events are back (or given up on): from here this node records again. */
  private ownEventsDone(stage: 'own-events-back' | 'own-events-lost', out: CoreOutput[]): void {
    this.ownBehind = undefined;
    if (this.progress.held(this.name) < this.meta.seq) {
      this.progress.setHeld(this.name, this.meta.seq);
      this.store.setProgress(this.name, this.meta.seq);
    }
    out.push({ type: 'identity', stage, incarnation: this.meta.incarnation, seq: this.meta.seq, answered: [] });
  }

  /** What this node knows of `about`, for a joiner that may have lost its store. */
  private identityOf(about: string): IdentityFrame {
    const held = this.progress.held(about);
    const known = this.membership.incarnationOf(about);
    const hlc = this.store.event(about, held)?.hlc ?? this.progress.floor(about);
    return { ...this.header('identity', { about, known: known ?? -1, held }), ...(hlc === undefined ? {} : { hlc }) };
  }

  /** Writes what changed in this step (the edge commits it before acting on the outputs). */
  private flush(): void {
    // Nothing of a recovering node's meta is durable: a crash before it knows its identity starts recovery over.
    const order = this.sequencer.takeMeta();
    if (order !== undefined) {
      this.meta.order = order;
      this.metaDirty = true;
    }
    if (this.metaDirty && this.recovery === undefined) {
      this.store.setMeta({ ...this.meta });
      this.metaDirty = false;
    }
    for (const member of this.membership.takeDirty()) this.store.setMember(member);
  }
}

/** What a heartbeat tells its receiver `self` of itself, as an identity answer. */
function identityIn(frame: HeartbeatFrame, self: string): IdentityFrame {
  let known = -1;
  for (const ref of [...frame.view, ...frame.down, ...frame.joining]) if (ref.name === self) known = Math.max(known, ref.incarnation);
  const entry = frame.progress.find((e) => e.origin === self);
  const hlc = entry?.claim?.hlc;
  return { type: 'identity', from: frame.from, incarnation: frame.incarnation, about: self, known, held: entry?.seq ?? 0, ...(hlc === undefined ? {} : { hlc }) };
}

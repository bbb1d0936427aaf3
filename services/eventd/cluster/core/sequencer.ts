// One agreed order: positions decided by the primary component only.
//
// Each epoch has one sequencer, the lowest-named member of the view that
// opened it; only a view holding a majority of the CONFIGURED node set
// (`quorum`) opens one. The sequencer appends decisions (position -> agreed
// event, FIFO per origin) to the replicated log (decisions.ts) and sends them;
// a decision is committed once a majority of the configured set persisted it
// (Raft's rule: counted on an entry of the current epoch, which commits the
// prefix). A node delivers an agreed event only at a committed position, in
// position order, so a delivered position is never revised.
//
// Opening an epoch (Viewstamped Replication's view change with Raft's log
// comparison): the new sequencer gathers promises from a majority (each
// promiser refuses older epochs from then on, and reports its log above the
// sequencer's committed point), adopts the most up to date log among them
// (highest last epoch, then longest), and appends the epoch's view entry. Any
// committed decision sits in every majority and in the most up to date log of
// any majority, so it is never lost or changed (leader completeness); the view
// entry, of the new epoch, is what commits the adopted tail.
//
// A minority never gathers a majority: it delivers no agreed event while cut
// off, keeps recording its own (FIFO goes on), and after the heal its events
// get positions after what the primary decided meanwhile.
//
// Which view opens an epoch is the only input from membership.ts: detection
// may change (Rapid-style cut detection) without touching this rule.

import type { ClusterEvent } from './frames.js';
import type { AppendFrame, AppendedFrame, DecisionsFrame, DecisionsPullFrame, Frame, PrepareFrame, PromiseFrame } from './frames.js';
import { compareEpochs, DecisionLog, sameEpoch, type Decision, type Epoch } from './decisions.js';
import type { CoreOutput } from './io.js';
import { compareKeys, type AgreedKey } from './ordering.js';
import type { CoreStore, OrderMeta } from './store.js';

/** Decisions a sequencer may have outstanding above the committed point (bounds every tail a promise carries). */
export const decisionWindow = 64;
/** Most decisions in one frame. */
const maxDecisionsPerFrame = 64;

export interface SequencerHost {
  readonly self: string;
  /** Size of the configured node set (cluster.peers and self). */
  readonly quorum: number;
  readonly heartbeatMs: number;
  readonly suspectAfterMs: number;
  readonly store: CoreStore;
  awake(): number;
  view(): readonly string[];
  peers(): string[];
  held(origin: string): number;
  /** A fresh HLC time (the view entry's). */
  issue(): string;
  send(to: string, frame: Frame, out: CoreOutput[]): void;
  /** A frame with this node's header. */
  frame<T extends Frame['type'], B extends object>(type: T, body: B): { type: T; from: string; incarnation: number } & B;
}

type Role =
  | { kind: 'follower' }
  | { kind: 'candidate'; epoch: Epoch; since: number; resendAt: number; promises: Map<string, PromiseFrame> }
  | {
    kind: 'leader'; epoch: Epoch; members: string[]; next: Map<string, number>; match: Map<string, number>; beatAt: number;
    /** The committed point the followers were last sent (see `run`). */
    announced: number;
    /** Awake time of each follower's latest accepted append: only followers heard lately count towards a commit. */
    ackedAt: Map<string, number>;
  };

export class Sequencer {
  private readonly log: DecisionLog;
  private readonly order: OrderMeta;
  private dirtyMeta = false;
  private role: Role = { kind: 'follower' };
  /** Held agreed events not (yet) in the log, sorted by key; entries already placed are skipped lazily. */
  private pending: AgreedKey[] = [];
  private readonly pendingIds = new Set<string>();
  /** The committed point the followers were last told (an append carries it): see noticeCommit. */
  private noticed = 0;
  private highestSeen = 0;
  private pullUntil = 0;

  constructor(private readonly host: SequencerHost, stored: OrderMeta | undefined) {
    this.log = new DecisionLog(host.store.decisions(1));
    this.order = stored === undefined ? { promised: null, committed: 0, delivered: 0 } : { ...stored };
    this.order.committed = Math.min(this.order.committed, this.log.last);
    this.highestSeen = this.order.promised?.n ?? 0;
  }

  get committed(): number {
    return this.order.committed;
  }

  get delivered(): number {
    return this.order.delivered;
  }

  /** Epoch of the sequencer this node follows or is; null before any. */
  get epoch(): Epoch | null {
    return this.order.promised;
  }

  get isSequencer(): boolean {
    return this.role.kind === 'leader';
  }

  /** The order state to persist with this step, if it changed. */
  takeMeta(): OrderMeta | undefined {
    if (!this.dirtyMeta) return undefined;
    this.dirtyMeta = false;
    return { ...this.order };
  }

  /** An agreed event became held (its origin's prefix reaches it): it waits for a position. */
  held(event: ClusterEvent): void {
    this.addPending({ hlc: event.hlc, origin: event.origin, seq: event.seq });
  }

  // --- timer -----------------------------------------------------------------

  tick(out: CoreOutput[]): void {
    const view = this.host.view();
    const awake = this.host.awake();
    const primary = 2 * view.length > this.host.quorum && view[0] === this.host.self;
    const role = this.role;
    if (primary) {
      if (role.kind === 'follower') this.openEpoch(out);
      else if (role.kind === 'leader' && role.members.join(',') !== view.join(',')) this.openEpoch(out);
      else if (role.kind === 'candidate' && awake - role.since > 2 * this.host.suspectAfterMs) this.openEpoch(out);
      else if (role.kind === 'candidate' && awake >= role.resendAt) {
        role.resendAt = awake + this.host.heartbeatMs;
        const frame = this.prepareFrame(role.epoch);
        for (const peer of this.host.peers()) if (!role.promises.has(peer)) this.host.send(peer, frame, out);
      }
    } else if (role.kind === 'candidate') {
      this.role = { kind: 'follower' };
    }
    if (this.role.kind === 'leader' && awake >= this.role.beatAt) {
      this.role.beatAt = awake + this.host.heartbeatMs;
      for (const peer of this.host.peers()) this.replicate(peer, out);
    }
  }

  /**
   * Called on every tick (a quarter heartbeat): a leader whose committed point
   * moved since the followers were last told sends it at once instead of at its
   * next beat, so a follower delivers an agreed event (a failover claim, whose
   * votes wait for it) within a tick of its commit, not within a heartbeat. At
   * most one append per follower per tick, however many commits a burst made.
   */
  noticeCommit(out: CoreOutput[]): void {
    if (this.role.kind !== 'leader' || this.order.committed <= this.noticed) return;
    for (const peer of this.host.peers()) this.replicate(peer, out);
  }

  /** A peer's heartbeat said how far its committed prefix reaches: pull what this node lacks. */
  peerCommitted(peer: string, committed: number, out: CoreOutput[]): void {
    const awake = this.host.awake();
    if (committed <= this.order.committed || awake < this.pullUntil) return;
    this.pullUntil = awake + 2 * this.host.heartbeatMs;
    this.host.send(peer, this.host.frame('decisions-pull', { position: this.order.committed + 1 }), out);
  }

  // --- frames ------------------------------------------------------------------

  onFrame(frame: PrepareFrame | PromiseFrame | AppendFrame | AppendedFrame | DecisionsPullFrame | DecisionsFrame, out: CoreOutput[]): void {
    switch (frame.type) {
      case 'prepare':
        return this.onPrepare(frame, out);
      case 'promise':
        return this.onPromise(frame, out);
      case 'append':
        return this.onAppend(frame, out);
      case 'appended':
        return this.onAppended(frame, out);
      case 'decisions-pull': {
        const to = Math.min(this.order.committed, frame.position - 1 + maxDecisionsPerFrame);
        if (to >= frame.position) this.host.send(frame.from, this.host.frame('decisions', { entries: this.log.slice(frame.position - 1, to), committed: this.order.committed }), out);
        return;
      }
      case 'decisions':
        return this.onDecisions(frame, out);
    }
  }

  private onPrepare(frame: PrepareFrame, out: CoreOutput[]): void {
    this.seen(frame.epoch);
    const order = compareEpochs(frame.epoch, this.order.promised);
    if (order > 0) this.promise(frame.epoch);
    const ok = order >= 0;
    const above = frame.above;
    const more = this.log.last - above > decisionWindow * 2;
    const tail = ok ? this.log.slice(above, Math.min(this.log.last, above + decisionWindow * 2)) : [];
    this.host.send(frame.from, this.host.frame('promise', {
      epoch: frame.epoch, ok, promised: this.order.promised, above, last: this.log.last, lastEpoch: this.log.lastEpoch,
      committed: this.order.committed, tail, more, heldThrough: this.heldThrough(),
    }), out);
  }

  private onPromise(frame: PromiseFrame, out: CoreOutput[]): void {
    if (frame.promised !== null) this.seen(frame.promised);
    const role = this.role;
    if (role.kind !== 'candidate' || !sameEpoch(role.epoch, frame.epoch)) return;
    if (!frame.ok) {
      // A newer epoch exists: the next tick opens one above it.
      this.role = { kind: 'follower' };
      return;
    }
    role.promises.set(frame.from, frame);
    if (2 * (role.promises.size + 1) <= this.host.quorum) return;
    // The most up to date log among the majority (this node's own included).
    let best: PromiseFrame | undefined;
    for (const promise of role.promises.values()) {
      const better = best === undefined ? compareEpochs(promise.lastEpoch, this.log.lastEpoch) > 0 || (sameEpoch(promise.lastEpoch, this.log.lastEpoch) && promise.last > this.log.last)
        : compareEpochs(promise.lastEpoch, best.lastEpoch) > 0 || (sameEpoch(promise.lastEpoch, best.lastEpoch) && promise.last > best.last);
      if (better) best = promise;
    }
    if (best !== undefined) {
      if (best.more || best.above > this.order.committed) {
        // Its log reaches too far above this node's committed point for one frame: catch up first, then ask again.
        role.promises.delete(best.from);
        this.host.send(best.from, this.host.frame('decisions-pull', { position: this.order.committed + 1 }), out);
        return;
      }
      this.adopt(best);
    }
    this.dropUnheld([...role.promises.values()]);
    this.lead(role.epoch, out);
  }

  /** Replaces this node's log above its committed point by the tail of `best` (committed decisions are the same everywhere). */
  private adopt(best: PromiseFrame): void {
    const base = this.order.committed;
    for (const d of best.tail) {
      if (d.position <= base) continue;
      const mine = this.log.at(d.position);
      if (mine !== undefined && sameEpoch(mine.epoch, d.epoch)) continue;
      this.truncate(d.position - 1);
      this.write(d);
    }
    this.truncate(Math.max(base, best.last));
  }

  /**
   * Cuts the adopted tail at the first decision whose event no promiser holds. A committed decision
   * was persisted, event held, by a majority, so one promiser holds it: what nobody holds was never
   * committed, and keeping it would stall the order for good (its origin may be dead).
   */
  private dropUnheld(promises: PromiseFrame[]): void {
    const floor = Math.max(this.order.committed, ...promises.map((p) => p.committed));
    for (let position = floor + 1; position <= this.log.last; position += 1) {
      const d = this.log.at(position) as Decision;
      if (this.holds(d)) continue;
      const heldElsewhere = promises.some((p) => p.heldThrough >= position && p.tail.some((t) => t.position === position && sameEpoch(t.epoch, d.epoch)));
      if (heldElsewhere) continue;
      this.truncate(position - 1);
      return;
    }
  }

  /** The highest position up to which this node holds the event of every decision above its committed point. */
  private heldThrough(): number {
    let position = this.order.committed;
    while (position < this.log.last && this.holds(this.log.at(position + 1) as Decision)) position += 1;
    return position;
  }

  private holds(d: Decision): boolean {
    return d.kind === 'view' || this.host.held(d.origin) >= d.seq;
  }

  private lead(epoch: Epoch, out: CoreOutput[]): void {
    const members = [...this.host.view()];
    const before = this.log.membersBefore(this.log.last);
    const next = new Map<string, number>();
    const role: Role = { kind: 'leader', epoch, members, next, match: new Map(), beatAt: this.host.awake() + this.host.heartbeatMs, announced: this.order.committed, ackedAt: new Map() };
    this.role = role;
    // The epoch's view entry: a Cluster event at the same position everywhere, and the entry of this epoch that commits the adopted tail.
    this.write({
      position: this.log.last + 1, epoch, kind: 'view', members,
      joined: members.filter((m) => !before.includes(m)), left: before.filter((m) => !members.includes(m)), hlc: this.host.issue(),
    });
    for (const peer of this.host.peers()) {
      next.set(peer, this.log.last);
      this.replicate(peer, out);
    }
  }

  private onAppend(frame: AppendFrame, out: CoreOutput[]): void {
    this.seen(frame.epoch);
    const from = frame.from;
    const order = compareEpochs(frame.epoch, this.order.promised);
    if (order < 0) {
      this.host.send(from, this.host.frame('appended', { epoch: frame.epoch, ok: false, promised: this.order.promised, match: this.order.committed }), out);
      return;
    }
    if (order > 0) this.promise(frame.epoch);
    if (this.role.kind !== 'follower') this.role = { kind: 'follower' };
    const prevMatches = frame.prev === 0 || (frame.prev <= this.log.last && sameEpoch(this.log.epochAt(frame.prev), frame.prevEpoch));
    if (!prevMatches) {
      this.host.send(from, this.host.frame('appended', { epoch: frame.epoch, ok: false, promised: this.order.promised, match: this.order.committed }), out);
      return;
    }
    let position = frame.prev;
    for (const d of frame.entries) {
      if (d.position !== position + 1) break;
      position = d.position;
      const mine = this.log.at(position);
      if (mine !== undefined && sameEpoch(mine.epoch, d.epoch)) {
        if (!this.holds(d)) { position -= 1; break; }
        continue;
      }
      // A committed position never changes; a conflict there would be a protocol bug, and the entry is refused.
      if (position <= this.order.committed) { position -= 1; break; }
      // Persisting a decision means holding its event too: a committed position is then held by a majority.
      if (!this.holds(d)) { position -= 1; break; }
      this.truncate(position - 1);
      this.write(d);
    }
    this.commit(Math.min(frame.committed, position), out);
    this.host.send(from, this.host.frame('appended', { epoch: frame.epoch, ok: true, promised: this.order.promised, match: position }), out);
  }

  private onAppended(frame: AppendedFrame, out: CoreOutput[]): void {
    if (frame.promised !== null) this.seen(frame.promised);
    const role = this.role;
    if (role.kind !== 'leader' || !sameEpoch(role.epoch, frame.epoch)) return;
    const from = frame.from;
    if (!frame.ok) {
      if (compareEpochs(frame.promised, role.epoch) > 0) {
        this.role = { kind: 'follower' };
        return;
      }
      // Its log differs above its committed point: send from there.
      role.next.set(from, Math.min(role.next.get(from) ?? this.log.last + 1, frame.match + 1));
      this.replicate(from, out);
      return;
    }
    const before = role.match.get(from) ?? 0;
    if (frame.match > before) role.match.set(from, frame.match);
    role.ackedAt.set(from, this.host.awake());
    // It accepted up to match (it stops at an event it does not hold yet): what follows goes again.
    role.next.set(from, frame.match + 1);
    this.advanceCommit(role, out);
    // More at once only when this ack moved the follower on. One that stopped at a decision whose event
    // it lacks would answer the same match to the same entries: re-sent at once, that is a ping-pong at
    // network speed until the event arrives. It gets them again with the next beat instead.
    if (frame.match > before && (role.next.get(from) ?? 0) <= this.log.last) this.replicate(from, out);
  }

  private onDecisions(frame: DecisionsFrame, out: CoreOutput[]): void {
    for (const d of frame.entries) {
      if (d.position !== this.order.committed + 1) continue;
      const mine = this.log.at(d.position);
      if (mine === undefined || !sameEpoch(mine.epoch, d.epoch)) {
        // Committed elsewhere, so final: whatever this node held there was never committed.
        if (this.role.kind !== 'follower') this.role = { kind: 'follower' };
        this.truncate(d.position - 1);
        this.write(d);
      }
      this.commit(d.position, out);
    }
    this.pullUntil = 0;
  }

  // --- the sequencer's work, after every step ---------------------------------

  run(out: CoreOutput[]): void {
    const role = this.role;
    if (role.kind === 'leader') {
      const first = this.log.last + 1;
      while (this.log.last - this.order.committed < decisionWindow) {
        const key = this.nextPending();
        if (key === undefined) break;
        this.write({ position: this.log.last + 1, epoch: role.epoch, kind: 'event', origin: key.origin, seq: key.seq });
      }
      this.advanceCommit(role, out);
      // A committed point that moved in this step goes at once to every follower sent all decisions so
      // far, in one append each (with the new decisions, if any): followers deliver one hop after the
      // commit, not on the next beat. Once per step, whatever number of acks the step took; a follower
      // still catching up gets it with the next batch its acks ask for.
      const announce = this.order.committed > role.announced;
      role.announced = this.order.committed;
      for (const peer of this.host.peers()) {
        const next = role.next.get(peer) ?? 0;
        if ((this.log.last >= first && next === first) || (announce && next > this.log.last)) this.replicate(peer, out);
      }
    }
    this.deliver(out);
  }

  private advanceCommit(role: Extract<Role, { kind: 'leader' }>, out: CoreOutput[]): void {
    // A majority of acks, each heard within suspectAfterMs: a sequencer cut off into a minority (whose
    // view cannot change) must not commit on acks from before the cut plus a late one from its own side.
    const awake = this.host.awake();
    const fresh = [...role.match].filter(([peer]) => awake - (role.ackedAt.get(peer) ?? -Infinity) <= this.host.suspectAfterMs);
    const matches = [this.heldThrough(), ...fresh.map(([, match]) => match)].sort((a, b) => b - a);
    const majority = Math.floor(this.host.quorum / 2);
    const reached = matches[majority];
    if (reached === undefined || reached <= this.order.committed) return;
    if (!sameEpoch(this.log.epochAt(reached), role.epoch)) return;
    this.commit(reached, out);
  }

  private commit(position: number, out: CoreOutput[]): void {
    const to = Math.min(position, this.log.last);
    if (to <= this.order.committed) return;
    this.order.committed = to;
    this.dirtyMeta = true;
    out.push({ type: 'committed', position: to });
  }

  /** Delivers committed positions in order, as long as this node holds their events. */
  private deliver(out: CoreOutput[]): void {
    while (this.order.delivered < this.order.committed) {
      const position = this.order.delivered + 1;
      const d = this.log.at(position) as Decision;
      if (d.kind === 'event') {
        if (this.host.held(d.origin) < d.seq) return;
        const event = this.host.store.event(d.origin, d.seq);
        if (event === undefined) return;
        out.push({ type: 'deliver', event, position });
      } else {
        out.push({ type: 'clusterView', position, epoch: d.epoch, members: d.members, joined: d.joined, left: d.left, hlc: d.hlc });
      }
      this.order.delivered = position;
      this.dirtyMeta = true;
    }
  }

  // --- helpers ---------------------------------------------------------------------

  private openEpoch(out: CoreOutput[]): void {
    const epoch: Epoch = { n: Math.max(this.highestSeen, this.order.promised?.n ?? 0) + 1, leader: this.host.self };
    this.promise(epoch);
    this.seen(epoch);
    const awake = this.host.awake();
    this.role = { kind: 'candidate', epoch, since: awake, resendAt: awake + this.host.heartbeatMs, promises: new Map() };
    if (2 > this.host.quorum) {
      this.lead(epoch, out);
      return;
    }
    const frame = this.prepareFrame(epoch);
    for (const peer of this.host.peers()) this.host.send(peer, frame, out);
  }

  private prepareFrame(epoch: Epoch): Frame {
    return this.host.frame('prepare', { epoch, above: this.order.committed });
  }

  private replicate(peer: string, out: CoreOutput[]): void {
    const role = this.role;
    if (role.kind !== 'leader') return;
    const next = Math.max(1, Math.min(role.next.get(peer) ?? this.log.last + 1, this.log.last + 1));
    const entries = this.log.slice(next - 1, Math.min(this.log.last, next - 1 + maxDecisionsPerFrame));
    this.host.send(peer, this.host.frame('append', { epoch: role.epoch, prev: next - 1, prevEpoch: this.log.epochAt(next - 1), entries, committed: this.order.committed }), out);
    role.next.set(peer, next + entries.length);
    this.noticed = Math.max(this.noticed, this.order.committed);
  }

  private promise(epoch: Epoch): void {
    this.order.promised = epoch;
    this.dirtyMeta = true;
  }

  private seen(epoch: Epoch): void {
    if (epoch.n > this.highestSeen) this.highestSeen = epoch.n;
  }

  private write(d: Decision): void {
    for (const id of this.log.set(d)) this.repend(id);
    this.host.store.putDecision(d);
  }

  private truncate(position: number): void {
    if (position >= this.log.last) return;
    for (const id of this.log.truncate(position)) this.repend(id);
    this.host.store.truncateDecisions(position);
  }

  /** An event that lost its position (an uncommitted tail replaced) waits for one again. */
  private repend(id: string): void {
    const at = id.lastIndexOf(':');
    const origin = id.slice(0, at);
    const seq = Number(id.slice(at + 1));
    if (this.host.held(origin) < seq) return;
    const event = this.host.store.event(origin, seq);
    if (event !== undefined) this.addPending({ hlc: event.hlc, origin, seq });
  }

  private addPending(key: AgreedKey): void {
    const id = `${key.origin}:${key.seq}`;
    if (this.pendingIds.has(id) || this.log.positionOf(key.origin, key.seq) !== undefined) return;
    this.pendingIds.add(id);
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.pending[mid] as AgreedKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.pending.splice(lo, 0, key);
  }

  private nextPending(): AgreedKey | undefined {
    while (this.pending.length > 0) {
      const key = this.pending.shift() as AgreedKey;
      this.pendingIds.delete(`${key.origin}:${key.seq}`);
      if (this.log.positionOf(key.origin, key.seq) === undefined) return key;
    }
    return undefined;
  }

}

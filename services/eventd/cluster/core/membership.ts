// Membership: who is in the view. Each node observes liveness directly
// (any frame from a peer proves it alive) and gossips a suspicion report in
// every heartbeat: whom it heard within suspectAfterMs, and whom it has not.
//
// Rules (evaluated by every node against ITS current view V):
// - a member m of V is down when more than |V|/2 nodes report m unreachable:
//   members of V (other than m), and known members outside V that this node
//   hears right now (so their reports are fresh). Without the latter, a view
//   that shrank to {a, b} would keep a paused forever once b died, even with
//   c back and {a, c} a majority of the cluster; a minority side hears no
//   such outsider, so it still cannot change its view;
// - a known member m outside V is up when more than |V|/2 members of V report
//   hearing m at an incarnation above the one at which this node declared m
//   down (so a stale frame of the old incarnation can never bring it back);
// - a node is always in its own view; one that sees itself declared down at
//   incarnation i rejoins (refutes) as i + 1.
// So a minority side never gathers the votes to change its view, and once
// faults heal every live node hears every other, all reports agree and every
// view converges to the set of live nodes (as long as a majority of the known
// members is alive). Views are agreed eventually, not at every instant: under
// cascading partitions a view that already shrank is judged by its own
// majority (dynamic quorum). Agreed delivery stays consistent regardless (a
// view change only moves floors); a consumer needing a strict quorum should
// also count against the configured cluster size.
//
// Silence is measured on the core's "awake" clock (see core.ts), so time
// during which this node itself was stalled is not held against its peers.

import type { MemberRef } from './frames.js';
import { compareHlc } from './ordering.js';
import type { MemberRecord } from './store.js';

interface Liveness {
  /** Awake time of the last frame heard, undefined when none since start (or since learning of the member). */
  heardAt: number | undefined;
  heardIncarnation: number;
  /** Awake time from which silence counts: start of this core, or when the member was learned. */
  since: number;
}

interface Report {
  hlc: string;
  reach: Map<string, number>;
  unreach: Set<string>;
}

export interface ViewChange {
  view: string[];
  up: string[];
  down: string[];
}

export class Membership {
  private readonly records = new Map<string, MemberRecord>();
  private readonly liveness = new Map<string, Liveness>();
  private readonly reports = new Map<string, Report>();
  private readonly dirty = new Set<string>();
  private viewCache: string[] | undefined;

  constructor(
    readonly self: string,
    incarnation: number,
    records: readonly MemberRecord[],
    private readonly suspectAfterMs: number,
  ) {
    for (const record of records) {
      if (record.name === self) continue;
      this.records.set(record.name, { ...record });
      // No silence is held against anyone until suspectAfterMs after start: a restarted node must not report the world dead.
      this.liveness.set(record.name, { heardAt: undefined, heardIncarnation: -1, since: 0 });
    }
    this.records.set(self, { name: self, incarnation, inView: true, downIncarnation: -1 });
    this.dirty.add(self);
  }

  get incarnation(): number {
    return (this.records.get(this.self) as MemberRecord).incarnation;
  }

  /** Rejoins with a higher incarnation (refutation); persisted with the next step. */
  setIncarnation(incarnation: number): void {
    (this.records.get(this.self) as MemberRecord).incarnation = incarnation;
    this.dirty.add(this.self);
  }

  /** The highest incarnation known for `name` (also the one it was declared down at), or undefined when unknown. */
  incarnationOf(name: string): number | undefined {
    const record = this.records.get(name);
    return record === undefined ? undefined : Math.max(record.incarnation, record.downIncarnation);
  }

  /** Every known member but this node: whom heartbeats go to. */
  peers(): string[] {
    return [...this.records.keys()].filter((name) => name !== this.self);
  }

  /** Sorted names in the view; the array is shared, do not modify it. */
  view(): readonly string[] {
    if (this.viewCache === undefined) this.viewCache = [...this.records.values()].filter((r) => r.inView).map((r) => r.name).sort();
    return this.viewCache;
  }

  viewRefs(): MemberRef[] {
    return [...this.records.values()].filter((r) => r.inView).map((r) => ({ name: r.name, incarnation: r.incarnation }));
  }

  /** Members declared down, each with the incarnation it was declared down at. */
  downRefs(): MemberRef[] {
    return [...this.records.values()].filter((r) => !r.inView && r.downIncarnation >= 0).map((r) => ({ name: r.name, incarnation: r.downIncarnation }));
  }

  /** Members known but never in the view yet. */
  joiningRefs(): MemberRef[] {
    return [...this.records.values()].filter((r) => !r.inView && r.downIncarnation < 0).map((r) => ({ name: r.name, incarnation: r.incarnation }));
  }

  /** Learns of a member from gossip; returns true when it was unknown. */
  know(ref: MemberRef, awake: number): boolean {
    if (ref.name === this.self) return false;
    const record = this.records.get(ref.name);
    if (record === undefined) {
      this.records.set(ref.name, { name: ref.name, incarnation: ref.incarnation, inView: false, downIncarnation: -1 });
      this.liveness.set(ref.name, { heardAt: undefined, heardIncarnation: -1, since: awake });
      this.dirty.add(ref.name);
      return true;
    }
    if (ref.incarnation > record.incarnation) {
      record.incarnation = ref.incarnation;
      this.dirty.add(ref.name);
    }
    return false;
  }

  /** A frame from `name` arrived. Frames of an older incarnation than one already heard are stale and prove nothing. */
  heard(name: string, incarnation: number, awake: number): boolean {
    const isNew = this.know({ name, incarnation }, awake);
    const live = this.liveness.get(name);
    if (live !== undefined && incarnation >= live.heardIncarnation) {
      live.heardAt = awake;
      live.heardIncarnation = incarnation;
    }
    return isNew;
  }

  /** Keeps the newest suspicion report of each reporter (frames may arrive reordered or twice). */
  report(from: string, hlc: string, reach: readonly MemberRef[], unreach: readonly string[]): void {
    const held = this.reports.get(from);
    if (held !== undefined && compareHlc(hlc, held.hlc) <= 0) return;
    this.reports.set(from, {
      hlc,
      reach: new Map(reach.map((r) => [r.name, r.incarnation])),
      unreach: new Set(unreach),
    });
  }

  /**
   * This node's own suspicion report. A member neither heard nor silent for long enough is in neither list.
   * `health` (core.ts, Lifeguard's local health multiplier): a node whose own ticks ran late accuses
   * only after (1 + health) x suspectAfterMs, so a slow node does not report its peers dead for a
   * lateness of its own; the view still changes on the reports of the healthy majority.
   */
  localReport(awake: number, health = 0): { reach: MemberRef[]; unreach: string[] } {
    const reach: MemberRef[] = [];
    const unreach: string[] = [];
    const accuseAfter = this.suspectAfterMs * (1 + health);
    for (const [name, live] of this.liveness) {
      if (live.heardAt !== undefined && awake - live.heardAt <= this.suspectAfterMs) {
        reach.push({ name, incarnation: live.heardIncarnation });
      } else if (awake - (live.heardAt ?? live.since) > accuseAfter) {
        unreach.push(name);
      }
    }
    return { reach, unreach };
  }

  /** The incarnation to rejoin with when a peer's down list names this node at or above its own; undefined otherwise. */
  refutation(down: readonly MemberRef[]): number | undefined {
    const own = this.incarnation;
    const claim = down.find((ref) => ref.name === this.self && ref.incarnation >= own);
    return claim === undefined ? undefined : claim.incarnation + 1;
  }

  /** Applies the majority rules, with this node's own report `mine`, until nothing changes; returns the net change, if any. */
  evaluate(mine: { reach: readonly MemberRef[]; unreach: readonly string[] }): ViewChange | undefined {
    const before = this.view();
    const localReach = new Map(mine.reach.map((r) => [r.name, r.incarnation]));
    const localUnreach = new Set(mine.unreach);
    for (let round = 0; round < this.records.size; round += 1) {
      const view = this.view();
      const ups: { name: string; incarnation: number }[] = [];
      const downs: string[] = [];
      for (const record of this.records.values()) {
        if (record.name === this.self) continue;
        if (record.inView) {
          let votes = 0;
          for (const r of this.records.keys()) {
            if (r === record.name || (!this.records.get(r)?.inView && !localReach.has(r))) continue;
            const silent = r === this.self ? localUnreach.has(record.name) : this.reports.get(r)?.unreach.has(record.name) === true;
            if (silent) votes += 1;
          }
          if (2 * votes > view.length) downs.push(record.name);
        } else {
          let votes = 0;
          let incarnation = record.incarnation;
          for (const r of view) {
            const heardAs = r === this.self ? localReach.get(record.name) : this.reports.get(r)?.reach.get(record.name);
            if (heardAs !== undefined && heardAs > record.downIncarnation) {
              votes += 1;
              incarnation = Math.max(incarnation, heardAs);
            }
          }
          if (2 * votes > view.length) ups.push({ name: record.name, incarnation });
        }
      }
      if (ups.length === 0 && downs.length === 0) break;
      this.viewCache = undefined;
      for (const name of downs) {
        const record = this.records.get(name) as MemberRecord;
        record.inView = false;
        record.downIncarnation = record.incarnation;
        this.dirty.add(name);
      }
      for (const { name, incarnation } of ups) {
        const record = this.records.get(name) as MemberRecord;
        record.inView = true;
        record.incarnation = Math.max(record.incarnation, incarnation);
        this.dirty.add(name);
      }
    }
    const after = [...this.view()];
    const up = after.filter((n) => !before.includes(n));
    const down = before.filter((n) => !after.includes(n));
    return up.length === 0 && down.length === 0 ? undefined : { view: after, up, down };
  }

  /** Records changed since the last call, for the store. */
  takeDirty(): MemberRecord[] {
    const out = [...this.dirty].map((name) => ({ ...(this.records.get(name) as MemberRecord) }));
    this.dirty.clear();
    return out;
  }
}

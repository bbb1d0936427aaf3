// Per-origin progress, floors and pulls.
//
// - `held(o)`: this node holds every event of origin o up to here (the
//   contiguous prefix; events past a gap are stored but not yet held).
// - Floors: a claim (hlc, seq) of o says every event of o after seq has an
//   HLC above hlc. Once held(o) >= seq the claim is usable and its hlc is o's
//   floor here: no event of o at or below it can still arrive.
// - Pulls: every heartbeat advertises what its sender holds per origin; a
//   node behind on origin o asks the advertiser (any peer, not only o) for
//   the missing range, in batches of at most maxBatch. Per origin, what was
//   asked and not yet held is outstanding, up to two batches: the next batch
//   is asked once the one before it is half way in, so the answerer reads and
//   seals one while the puller applies the other (catch-up is not one round
//   trip per batch). Nothing outstanding is asked twice (an answer may come
//   as several frames); each frame that moves held(o) gives what is
//   outstanding pullTimeoutMs more, and once that lapses it is asked again,
//   of any peer, from held(o) + 1. The puller asks only as it applies: the
//   back-pressure a slow node applies to its peers.

import type { FloorClaim, ProgressEntry } from './frames.js';
import { compareHlc } from './ordering.js';

/** Claims not yet usable are kept per origin up to this many (the oldest first, and always the newest). */
const maxPendingClaims = 16;

interface Claims {
  usable: FloorClaim | undefined;
  /** Sorted by seq; each above `usable` in hlc. */
  pending: FloorClaim[];
}

export interface PullPlan {
  origin: string;
  fromSeq: number;
  toSeq: number;
}

export class Progress {
  private readonly heldBy = new Map<string, number>();
  private readonly claims = new Map<string, Claims>();
  /** peer -> origin -> seq the peer says it holds. */
  private readonly advertised = new Map<string, Map<string, number>>();
  private readonly pulls = new Map<string, { peer: string; until: number; toSeq: number; timeoutMs: number }>();

  constructor(initial: ReadonlyMap<string, number>) {
    for (const [origin, seq] of initial) this.heldBy.set(origin, seq);
  }

  held(origin: string): number {
    return this.heldBy.get(origin) ?? 0;
  }

  origins(): string[] {
    return [...this.heldBy.keys()];
  }

  /** `awake`: the core's awake clock, to give an outstanding pull that is being answered more time. */
  setHeld(origin: string, seq: number, awake?: number): void {
    this.heldBy.set(origin, seq);
    const pull = this.pulls.get(origin);
    if (pull !== undefined) {
      if (seq >= pull.toSeq || awake === undefined) this.pulls.delete(origin);
      // Progress: what is outstanding is being answered.
      else pull.until = Math.max(pull.until, awake + pull.timeoutMs);
    }
    const claims = this.claims.get(origin);
    if (claims === undefined) return;
    while (claims.pending.length > 0 && (claims.pending[0] as FloorClaim).seq <= seq) {
      const claim = claims.pending.shift() as FloorClaim;
      if (claims.usable === undefined || compareHlc(claim.hlc, claims.usable.hlc) > 0) claims.usable = claim;
    }
  }

  claim(origin: string, claim: FloorClaim): void {
    let claims = this.claims.get(origin);
    if (claims === undefined) {
      claims = { usable: undefined, pending: [] };
      this.claims.set(origin, claims);
    }
    if (claims.usable !== undefined && compareHlc(claim.hlc, claims.usable.hlc) <= 0) return;
    if (claim.seq <= this.held(origin)) {
      claims.usable = { hlc: claim.hlc, seq: claim.seq };
      claims.pending = claims.pending.filter((c) => compareHlc(c.hlc, claim.hlc) > 0);
      return;
    }
    const pending = claims.pending;
    if (pending.some((c) => c.hlc === claim.hlc)) return;
    let at = pending.length;
    while (at > 0 && (pending[at - 1] as FloorClaim).seq > claim.seq) at -= 1;
    pending.splice(at, 0, { hlc: claim.hlc, seq: claim.seq });
    if (pending.length > maxPendingClaims) pending.splice(pending.length - 2, 1);
  }

  /** o's floor here, or undefined while no claim of o is usable. */
  floor(origin: string): string | undefined {
    return this.claims.get(origin)?.usable?.hlc;
  }

  /** What a heartbeat advertises: per origin, held and the newest claim known (the sender's own claim rides in the heartbeat itself). */
  digest(self: string): ProgressEntry[] {
    const origins = new Set([...this.heldBy.keys(), ...this.claims.keys()]);
    const out: ProgressEntry[] = [];
    for (const origin of origins) {
      const entry: ProgressEntry = { origin, seq: this.held(origin) };
      const claims = this.claims.get(origin);
      const best = claims?.pending[claims.pending.length - 1] ?? claims?.usable;
      if (origin !== self && best !== undefined) entry.claim = best;
      out.push(entry);
    }
    return out;
  }

  advertise(peer: string, origin: string, seq: number): void {
    let byOrigin = this.advertised.get(peer);
    if (byOrigin === undefined) {
      byOrigin = new Map();
      this.advertised.set(peer, byOrigin);
    }
    if (seq > (byOrigin.get(origin) ?? 0)) byOrigin.set(origin, seq);
  }

  /** Pulls to ask `peer` (just heard, so alive) for what it holds and this node lacks. */
  pullsFrom(peer: string, self: string | undefined, awake: number, maxBatch: number, timeoutMs: number): PullPlan[] {
    const out: PullPlan[] = [];
    const byOrigin = this.advertised.get(peer);
    if (byOrigin === undefined) return out;
    for (const [origin, seq] of byOrigin) {
      const held = this.held(origin);
      if (origin === self || seq <= held) continue;
      const pending = this.pulls.get(origin);
      const outstanding = pending !== undefined && pending.until > awake ? pending : undefined;
      // At most two batches outstanding: a next one once less than one is still to come.
      if (outstanding !== undefined && outstanding.toSeq - held > maxBatch) continue;
      const fromSeq = (outstanding?.toSeq ?? held) + 1;
      if (fromSeq > seq) continue;
      const toSeq = Math.min(seq, fromSeq + maxBatch - 1);
      this.pulls.set(origin, { peer, until: awake + timeoutMs, toSeq, timeoutMs });
      out.push({ origin, fromSeq, toSeq });
    }
    return out;
  }
}

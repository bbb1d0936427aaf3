// Agreed delivery: events in (hlc, origin, seq) order, released once at or
// below the minimum floor over the current view. Pure data structure; the
// core decides the bound.
//
// Invariants kept here:
// - released keys strictly increase: `released` only moves up, and every
//   release batch is sorted and lies above the previous one;
// - every held agreed event with key <= `released` has been delivered, every
//   one above it is in `pending` (so a restart rebuilds `pending` from the
//   store and `released` alone);
// - an event that becomes deliverable below `released` is delivered at once,
//   flagged late, never dropped.

import type { ClusterEvent } from './frames.js';

/** The position of an agreed event in the total order. */
export interface AgreedKey {
  hlc: string;
  origin: string;
  seq: number;
}

/**
 * Compares HLC texts as times. hlc.ts pads the logical counter to 4 digits;
 * a counter past 9999 would break plain string order, so unequal lengths
 * fall back to numeric comparison.
 */
export function compareHlc(a: string, b: string): number {
  if (a.length === b.length) return a < b ? -1 : a > b ? 1 : 0;
  const [aw = '0', al = '0'] = a.split('.');
  const [bw = '0', bl = '0'] = b.split('.');
  return Number(aw) - Number(bw) || Number(al) - Number(bl);
}

export function compareKeys(a: AgreedKey, b: AgreedKey): number {
  const byHlc = compareHlc(a.hlc, b.hlc);
  if (byHlc !== 0) return byHlc;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return a.seq - b.seq;
}

export const keyOf = (e: ClusterEvent): AgreedKey => ({ hlc: e.hlc, origin: e.origin, seq: e.seq });

export class AgreedQueue {
  /** Held agreed events above `released`, sorted by key. */
  private readonly pending: ClusterEvent[] = [];

  constructor(private releasedKey: AgreedKey | null) {}

  get released(): AgreedKey | null {
    return this.releasedKey;
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * True when `event` sorts at or below what was already released. For an
   * event that just became deliverable this means late (keys are unique, so
   * "at" only happens when rebuilding after a restart: already delivered).
   */
  atOrBelowReleased(event: ClusterEvent): boolean {
    return this.releasedKey !== null && compareKeys(keyOf(event), this.releasedKey) <= 0;
  }

  /** Queues a held event that is not late. */
  add(event: ClusterEvent): void {
    const key = keyOf(event);
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(keyOf(this.pending[mid] as ClusterEvent), key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const at = this.pending[lo];
    if (at !== undefined && at.origin === event.origin && at.seq === event.seq) return;
    this.pending.splice(lo, 0, event);
  }

  /** Removes and returns, in order, every pending event with hlc <= bound. */
  releaseUpTo(bound: string): ClusterEvent[] {
    let count = 0;
    while (count < this.pending.length && compareHlc((this.pending[count] as ClusterEvent).hlc, bound) <= 0) count += 1;
    if (count === 0) return [];
    const batch = this.pending.splice(0, count);
    this.releasedKey = keyOf(batch[batch.length - 1] as ClusterEvent);
    return batch;
  }
}

/** The minimum over floors, or undefined when any member's floor is unknown (agreed delivery waits). */
export function minFloor(floors: Iterable<string | undefined>): string | undefined {
  let min: string | undefined;
  for (const floor of floors) {
    if (floor === undefined) return undefined;
    if (min === undefined || compareHlc(floor, min) < 0) min = floor;
  }
  return min;
}

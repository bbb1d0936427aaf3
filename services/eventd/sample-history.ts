import type { Attrs, Sample } from './types.js';

/** How many samples the console's charts get per resource (at a 5 s period: about 40 minutes). */
export const historyDepth = 500;

export interface HistoryPoint {
  time: number;
  attrs: Attrs;
}

/**
 * The recent samples of each resource, in memory only: a view for the
 * console's charts, not a record (the event log is the record). Bounded per
 * resource by `depth`; a resource that stops reporting keeps its last ones
 * until its class forgets it.
 */
export class SampleHistory {
  private readonly rings = new Map<string, { points: HistoryPoint[]; next: number }>();

  constructor(private readonly depth = historyDepth) {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`history depth must be a whole number of at least 1, not ${depth}`);
  }

  add(samples: readonly Sample[]): void {
    for (const sample of samples) {
      const key = keyOf(sample.class, sample.node, sample.resource);
      let ring = this.rings.get(key);
      if (!ring) {
        ring = { points: [], next: 0 };
        this.rings.set(key, ring);
      }
      const point = { time: sample.time, attrs: sample.attrs };
      // A ring: once full, the oldest slot is overwritten, so memory stays depth x resources.
      if (ring.points.length < this.depth) ring.points.push(point);
      else ring.points[ring.next] = point;
      ring.next = (ring.next + 1) % this.depth;
    }
  }

  /** Oldest first; empty for a resource never seen. */
  list(className: string, node: string, resource: string): HistoryPoint[] {
    const ring = this.rings.get(keyOf(className, node, resource));
    if (!ring) return [];
    if (ring.points.length < this.depth) return [...ring.points];
    return [...ring.points.slice(ring.next), ...ring.points.slice(0, ring.next)];
  }
}

function keyOf(className: string, node: string, resource: string): string {
  return JSON.stringify([className, node, resource]);
}

// The crossing driver both latency phases use: one origin's paging space moved
// across the threshold at a time, origins in turn, each origin alternating an
// event (90%) and its rearm (20%); the next crossing waits for `measure`.
import { performance } from 'node:perf_hooks';
import { setSwap } from '../../test/helpers/proc.js';
import type { EventdCluster, EventdNode } from './eventd-cluster.js';

export interface Crossing {
  index: number;
  origin: EventdNode;
  type: 'event' | 'rearm';
  /** Arrivals on the streams before the swap file was written: the crossing's events come after. */
  from: number;
  /** performance.now() when the swap file was written. */
  writtenAt: number;
}

export async function driveCrossings(cluster: EventdCluster, total: number, measure: (crossing: Crossing) => Promise<void>): Promise<void> {
  const { nodes, streams } = cluster;
  const fired = new Set<string>();
  for (let index = 0; index < total; index++) {
    const origin = nodes[index % nodes.length]!;
    const type = fired.has(origin.name) ? 'rearm' : 'event';
    if (type === 'event') fired.add(origin.name); else fired.delete(origin.name);
    const from = streams.arrivals.length;
    const writtenAt = performance.now();
    setSwap(origin.procRoot, type === 'event' ? 90 : 20);
    await measure({ index, origin, type, from, writtenAt });
  }
}

// Raised events (issue 16) on a running eventd cluster: POST /v1/events on
// each node in turn, timed until the event is on every node's stream; beside
// Serf's `serf event` invoked -> handler line on every agent.
import { performance } from 'node:perf_hooks';
import type { EventdCluster } from './eventd-cluster.js';

/** The class the benchmark raises; every daemon declares it (events.classes). */
export const benchEventClasses = { BenchDeploy: { attributes: { n: { type: 'number' } } } };

export interface RaiseDelivery {
  order: 'fifo' | 'agreed';
  /** POST sent -> the event on the last of all nodes' streams, per raise. */
  toAll: number[];
  lost: number;
}

export async function measureRaises(cluster: EventdCluster, order: 'fifo' | 'agreed', count: number, warmup: number): Promise<RaiseDelivery> {
  const { nodes, streams } = cluster;
  const result: RaiseDelivery = { order, toAll: [], lost: 0 };
  for (let i = 0; i < warmup + count; i++) {
    const origin = nodes[i % nodes.length]!;
    const sentAt = performance.now();
    const answer = await origin.daemon.request<{ id: string }>('POST', '/v1/events', { class: 'BenchDeploy', resource: 'app', attrs: { n: i }, order, scope: 'cluster' });
    if (answer.status !== 201) throw new Error(`POST /v1/events: ${answer.status} ${JSON.stringify(answer.body)}`);
    const { id } = answer.body;
    try {
      const seen = await streams.until(`${id} on every stream`, () => {
        const nodesSeen = streams.seen(id);
        return nodesSeen && nodesSeen.size === nodes.length ? nodesSeen : undefined;
      }, 5000);
      if (i >= warmup) result.toAll.push(Math.max(...seen.values()) - sentAt);
    } catch (error) {
      result.lost++;
      process.stderr.write(`  raise ${i} (${order}): ${(error as Error).message}\n`);
    }
  }
  return result;
}

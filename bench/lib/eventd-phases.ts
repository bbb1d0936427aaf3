// What the benchmark measures on a running eventd cluster: propagation of
// threshold events, detection of kill -9, idle traffic, false downs under load.
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../test/helpers/tmp.js';
import { driveCrossings } from './crossings.js';
import { isNodeDown, type Arrival } from './event-streams.js';
import { clusterCounters, type ClusterCounters, type EventdCluster } from './eventd-cluster.js';
import { sleep } from './stats.js';

const swapHigh = { name: 'bench-swap-high', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', scope: 'cluster' };

/** Creates the cluster subscription on the first node; resolves once every node knows it. */
export async function subscribe(cluster: EventdCluster): Promise<string> {
  const first = cluster.nodes[0]!;
  const created = await first.daemon.request<{ id: string }>('POST', '/v1/subscriptions', swapHigh);
  if (created.status !== 201) throw new Error(`POST /v1/subscriptions: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id;
  for (const node of cluster.nodes) {
    await waitFor(`${node.name} to know the subscription`, async () =>
      (await node.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === id));
  }
  return id;
}

export interface Propagation {
  /** Arrival on a node's stream minus arrival on the origin's stream, per (crossing, other node). */
  toOthers: number[];
  /** Swap file written to the event on a node's stream, per (crossing, node): includes the wait for the next sample. */
  writeToNode: number[];
  /** Swap file written to the event on the last of all nodes' streams, per crossing. */
  writeToAll: number[];
  /** Sample time (the event's `time`, ms resolution, wall clock) to the origin's stream. */
  sampleToOrigin: number[];
  crossings: number;
  lost: number;
}

/**
 * Moves one origin's paging space across the threshold at a time (origins in
 * turn, event then rearm), waiting for each event to reach every stream
 * before the next. The first `warmup` crossings are not counted.
 */
export async function measurePropagation(cluster: EventdCluster, subscription: string, crossings: number, warmup: number): Promise<Propagation> {
  const { nodes, streams } = cluster;
  const result: Propagation = { toOthers: [], writeToNode: [], writeToAll: [], sampleToOrigin: [], crossings, lost: 0 };
  await driveCrossings(cluster, warmup + crossings, async ({ index: i, origin, type, from, writtenAt }) => {
    let first: Arrival;
    let seen: ReadonlyMap<string, number>;
    try {
      first = await streams.until(`a ${type} from ${origin.name}`, () =>
        streams.find(from, (a) => a.event.origin === origin.name && a.event.subscription === subscription && a.event.type === type), 5000);
      const id = first.event.id;
      seen = await streams.until(`${id} on every stream`, () => {
        const nodesSeen = streams.seen(id);
        return nodesSeen && nodesSeen.size === nodes.length ? nodesSeen : undefined;
      }, 5000);
    } catch (error) {
      result.lost++;
      process.stderr.write(`  crossing ${i}: ${(error as Error).message}\n`);
      return;
    }
    if (i < warmup) return;
    const originAt = seen.get(origin.name)!;
    for (const [node, at] of seen) {
      result.writeToNode.push(at - writtenAt);
      if (node !== origin.name) result.toOthers.push(at - originAt);
    }
    result.writeToAll.push(Math.max(...seen.values()) - writtenAt);
    result.sampleToOrigin.push(performance.timeOrigin + originAt - Date.parse(first.event.time));
  });
  return result;
}

export interface DetectionRun {
  victim: string;
  /** Survivor -> kill -9 to the Node down event on its stream (NaN: none within the timeout). */
  perSurvivor: Map<string, number>;
  slowest: number;
  /** Restart to the restarted daemon listening on its API. */
  listenMs: number;
  /** Restart to a full view on every node again. */
  rejoinMs: number;
  /** Node down events in this run other than one per survivor for the victim. */
  unexpected: Arrival[];
}

/** kill -9 of n2, n3, ... in turn (never the first node), timed to each survivor's Node down event; restarts it after. */
export async function measureDetection(cluster: EventdCluster, repeats: number): Promise<DetectionRun[]> {
  const { nodes, streams } = cluster;
  const runs: DetectionRun[] = [];
  for (let r = 0; r < repeats; r++) {
    const victim = nodes[1 + (r % (nodes.length - 1))]!;
    const survivors = nodes.filter((node) => node !== victim);
    const from = streams.arrivals.length;
    const killedAt = performance.now();
    await cluster.kill9(victim);
    const perSurvivor = new Map<string, number>();
    await Promise.all(survivors.map(async (survivor) => {
      try {
        const down = await streams.until(`${survivor.name} to report ${victim.name} down`, () =>
          streams.find(from, (a) => a.node === survivor.name && isNodeDown(a, victim.name)), 15_000);
        perSurvivor.set(survivor.name, down.at - killedAt);
      } catch {
        perSurvivor.set(survivor.name, NaN);
      }
    }));
    const restartAt = performance.now();
    await cluster.restart(victim);
    const listenMs = performance.now() - restartAt;
    await cluster.waitForView(nodes.length);
    const rejoinMs = performance.now() - restartAt;
    await sleep(500); // let Node up events and catch-up settle before the next kill
    const downs = streams.arrivals.slice(from).filter((a) => isNodeDown(a));
    const expected = new Set(survivors.map((s) => s.name));
    const unexpected = downs.filter((a) => !(a.event.resource === victim.name && expected.delete(a.node)));
    const times = [...perSurvivor.values()];
    runs.push({ victim: victim.name, perSurvivor, slowest: times.some(Number.isNaN) ? NaN : Math.max(...times), listenMs, rejoinMs, unexpected });
  }
  return runs;
}

export interface IdleTraffic {
  seconds: number;
  /** Per node: frames, bytes sent and bytes received per second. */
  perNode: { name: string; framesPerS: number; bytesSentPerS: number; bytesReceivedPerS: number }[];
  /** Frame type -> frames sent per second, averaged over nodes. */
  byType: Map<string, number>;
}

/** Cluster counters of every node read `seconds` apart, with nothing firing. */
export async function measureIdle(cluster: EventdCluster, seconds: number): Promise<IdleTraffic> {
  const read = () => Promise.all(cluster.nodes.map((node) => clusterCounters(node)));
  const before = await read();
  const started = performance.now();
  await sleep(seconds * 1000);
  const after = await read();
  const elapsed = (performance.now() - started) / 1000;
  const sum = (c: ClusterCounters) => [...c.framesSent.values()].reduce((a, b) => a + b, 0);
  const byType = new Map<string, number>();
  const perNode = cluster.nodes.map((node, i) => {
    const b = before[i]!;
    const a = after[i]!;
    for (const [type, count] of a.framesSent) {
      const rate = (count - (b.framesSent.get(type) ?? 0)) / elapsed / cluster.nodes.length;
      byType.set(type, (byType.get(type) ?? 0) + rate);
    }
    return {
      name: node.name,
      framesPerS: (sum(a) - sum(b)) / elapsed,
      bytesSentPerS: (a.bytesSent - b.bytesSent) / elapsed,
      bytesReceivedPerS: (a.bytesReceived - b.bytesReceived) / elapsed,
    };
  });
  return { seconds: elapsed, perNode, byType };
}

export interface Soak {
  seconds: number;
  falseDowns: Arrival[];
  viewsAtEnd: Map<string, string[]>;
}

/** Watches every stream for `seconds` (the caller loads the CPUs) and collects Node down events: every one is false. */
export async function soak(cluster: EventdCluster, seconds: number, progress: (line: string) => void): Promise<Soak> {
  const { streams } = cluster;
  const from = streams.arrivals.length;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let nextReport = started + 30_000;
  while (performance.now() < deadline) {
    await sleep(Math.min(1000, deadline - performance.now()));
    if (performance.now() >= nextReport) {
      nextReport += 30_000;
      const downs = streams.arrivals.slice(from).filter((a) => isNodeDown(a)).length;
      progress(`  soak: ${Math.round((performance.now() - started) / 1000)} s of ${seconds}, ${downs} Node down events so far`);
    }
  }
  const falseDowns = streams.arrivals.slice(from).filter((a) => isNodeDown(a));
  const viewsAtEnd = new Map<string, string[]>();
  for (const node of cluster.nodes) viewsAtEnd.set(node.name, (await cluster.members(node)).view);
  return { seconds: (performance.now() - started) / 1000, falseDowns, viewsAtEnd };
}

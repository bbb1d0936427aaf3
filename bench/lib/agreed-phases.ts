// Agreed-delivery latency (issue 12) on a running eventd cluster, beside FIFO
// measured the same way in the same run, interleaved (fifo, agreed, fifo, ...)
// so both see the same load. Delivered on a node = the event arrived on that
// node's SSE stream; an agreed event counts only with its `position`, the same
// on every node. Two triggers: POST /v1/events (a raise) and a producer's
// threshold crossing of a cluster subscription of each order.
import { performance } from 'node:perf_hooks';
import { waitFor } from '../../test/helpers/tmp.js';
import { raiseSubscription } from '../../services/eventd/messaging/raise.js';
import type { EventRecord } from '../../services/eventd/types.js';
import { driveCrossings } from './crossings.js';
import type { Arrival, EventStreams } from './event-streams.js';
import type { EventdCluster } from './eventd-cluster.js';

export type Order = 'fifo' | 'agreed';

export interface OrderLatency {
  order: Order;
  /** Trigger -> delivered on the last of all nodes, per event. */
  toAll: number[];
  /** Per node: trigger -> delivered there. */
  perNode: Map<string, number[]>;
  /** Events not delivered on every node within the deadline (warm-up included). */
  lost: number;
  /** Agreed events that arrived somewhere without a position, or at different positions on two nodes. */
  badPositions: number;
}

export interface AgreedLatency {
  raises: Record<Order, OrderLatency>;
  crossings: Record<Order, OrderLatency>;
  /** After the raises: GET /v1/events?subscription=raise lists the same agreed events at the same positions on every node. */
  listingsIdentical: boolean;
  listed: number;
}

const deliveryDeadlineMs = 5000;

function empty(order: Order, names: readonly string[]): OrderLatency {
  return { order, toAll: [], perNode: new Map(names.map((n) => [n, []])), lost: 0, badPositions: 0 };
}

/** Waits for `match`'s event on every stream (agreed: with a position) and records the times after `sentAt`. */
async function delivered(streams: EventStreams, names: readonly string[], from: number, what: string, match: (event: EventRecord) => boolean, order: Order, sentAt: number, into: OrderLatency | undefined): Promise<EventRecord | undefined> {
  const arrivalsOf = () => {
    const found = new Map<string, Arrival>();
    for (let i = from; i < streams.arrivals.length; i++) {
      const arrival = streams.arrivals[i]!;
      if (match(arrival.event) && !found.has(arrival.node)) found.set(arrival.node, arrival);
    }
    return found.size === names.length ? found : undefined;
  };
  let seen: Map<string, Arrival>;
  try {
    seen = await streams.until(`${what} on every stream`, arrivalsOf, deliveryDeadlineMs);
  } catch (error) {
    if (into) into.lost++;
    process.stderr.write(`  ${what}: ${(error as Error).message}\n`);
    return undefined;
  }
  if (!into) return seen.values().next().value?.event;
  if (order === 'agreed') {
    const positions = new Set([...seen.values()].map((a) => a.event.position));
    if (positions.size !== 1 || positions.has(undefined)) into.badPositions++;
  }
  for (const [node, arrival] of seen) into.perNode.get(node)?.push(arrival.at - sentAt);
  into.toAll.push(Math.max(...[...seen.values()].map((a) => a.at)) - sentAt);
  return seen.values().next().value?.event;
}

/** `count` raises per order (after `warmup` per order, not counted), origins in turn, each awaited on every node before the next. */
export async function measureAgreedRaises(cluster: EventdCluster, count: number, warmup: number): Promise<Pick<AgreedLatency, 'raises' | 'listingsIdentical' | 'listed'>> {
  const { nodes, streams } = cluster;
  const names = nodes.map((n) => n.name);
  const raises = { fifo: empty('fifo', names), agreed: empty('agreed', names) };
  for (let i = 0; i < 2 * (warmup + count); i++) {
    const order: Order = i % 2 === 0 ? 'fifo' : 'agreed';
    const origin = nodes[Math.floor(i / 2) % nodes.length]!;
    const from = streams.arrivals.length;
    const sentAt = performance.now();
    const answer = await origin.daemon.request<{ id: string }>('POST', '/v1/events', { class: 'BenchDeploy', resource: 'agreed-bench', attrs: { n: i }, order, scope: 'cluster' });
    if (answer.status !== 201) throw new Error(`POST /v1/events: ${answer.status} ${JSON.stringify(answer.body)}`);
    const { id } = answer.body;
    await delivered(streams, names, from, `raise ${id} (${order})`, (e) => e.id === id, order, sentAt, Math.floor(i / 2) >= warmup ? raises[order] : undefined);
  }
  // What a user lists: the same agreed raises at the same positions on every node.
  let listed = 0;
  const render = async (node: (typeof nodes)[number]) => {
    const { body } = await node.daemon.request<{ events: EventRecord[] }>('GET', `/v1/events?subscription=${raiseSubscription.id}&limit=10000`);
    return body.events.filter((e) => e.position !== undefined && e.resource === 'agreed-bench').map((e) => `${e.position}=${e.id}`).join(' ');
  };
  const listingsIdentical = await waitFor('the same agreed raises listed on every node', async () => {
    const lists = await Promise.all(nodes.map(render));
    listed = lists[0]!.split(' ').filter(Boolean).length;
    return lists.every((l) => l === lists[0]);
  }, deliveryDeadlineMs).then(() => listed >= count + warmup, () => false);
  return { raises, listingsIdentical, listed };
}

const swap = (order: Order) => ({ name: `bench-swap-${order}`, class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', scope: 'cluster', order });

/**
 * Two cluster subscriptions on the same crossing, one per order: each swap
 * file written yields a FIFO and an agreed event, both timed from the write
 * (which includes the wait for the next sample).
 */
export async function measureAgreedCrossings(cluster: EventdCluster, count: number, warmup: number): Promise<Record<Order, OrderLatency>> {
  const { nodes, streams } = cluster;
  const names = nodes.map((n) => n.name);
  const ids = {} as Record<Order, string>;
  for (const order of ['fifo', 'agreed'] as const) {
    const created = await nodes[0]!.daemon.request<{ id: string }>('POST', '/v1/subscriptions', swap(order));
    if (created.status !== 201) throw new Error(`POST /v1/subscriptions: ${created.status} ${JSON.stringify(created.body)}`);
    ids[order] = created.body.id;
  }
  for (const node of nodes) {
    await waitFor(`${node.name} to know both swap subscriptions`, async () => {
      const known = (await node.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.map((s) => s.id);
      return known.includes(ids.fifo) && known.includes(ids.agreed);
    });
  }
  const crossings = { fifo: empty('fifo', names), agreed: empty('agreed', names) };
  await driveCrossings(cluster, warmup + count, async ({ index: i, origin, type, from, writtenAt }) => {
    await Promise.all((['fifo', 'agreed'] as const).map((order) => delivered(streams, names, from, `crossing ${i} of ${origin.name} (${order})`,
      (e) => e.subscription === ids[order] && e.origin === origin.name && e.type === type, order, writtenAt, i >= warmup ? crossings[order] : undefined)));
  });
  return crossings;
}

// Heal -> identical agreed sequences (issue 12). Three daemons whose every
// link runs through a relay in this process (test/helpers/cut-mesh.ts); one
// node is cut off for `partitionMs` (the victims in turn, the sequencer n1
// among them) while agreed events are raised on both sides; then the cut
// heals. Timed from the heal (SSE arrival, one clock):
// - held: every node holds every event. The baseline, FIFO convergence: the
//   last raise of every origin is a FIFO marker after its agreed events, and a
//   node delivers it once it holds that origin's whole prefix (per-origin FIFO
//   without gaps).
// - identical: every node delivered every agreed event raised so far, at the
//   same position everywhere; checked afterwards on GET /v1/events.
import { performance } from 'node:perf_hooks';
import { authHeader } from '../../test/helpers/api-token.js';
import { CutMesh } from '../../test/helpers/cut-mesh.js';
import type { ClusterNodeHandle } from '../../test/helpers/cluster.js';
import { waitFor } from '../../test/helpers/tmp.js';
import { raiseSubscription } from '../../services/eventd/messaging/raise.js';
import type { EventRecord } from '../../services/eventd/types.js';
import { PhaseHooks } from './bench-hooks.js';
import { onCleanup } from './cleanup.js';
import { EventStreams } from './event-streams.js';
import { benchEventClasses } from './raise-phases.js';
import { sleep } from './stats.js';

export interface HealRun {
  victim: string;
  /** Agreed events raised during this cut (both sides), and on the cut-off side alone. */
  raised: number;
  raisedCutOff: number;
  /** Heal -> every node holds every event (FIFO convergence, the baseline). */
  heldMs: number;
  /** Heal -> the Cluster view that re-admits the victim, on every node. */
  rejoinedMs: number;
  /** Heal -> every agreed event on every node at the same position. */
  identicalMs: number;
  /** GET /v1/events?subscription=raise, agreed events: the same ids and positions on all three, all of them. */
  listingsIdentical: boolean;
}

const resource = 'heal-bench';
const roundMs = 200;
const convergeDeadlineMs = 30_000;

/** node -> (arrival time, position) of each event id, kept up to date from the streams' arrivals. */
class Deliveries {
  private scanned = 0;
  private readonly byId = new Map<string, Map<string, { at: number; event: EventRecord }>>();

  constructor(private readonly streams: EventStreams) {}

  of(id: string): ReadonlyMap<string, { at: number; event: EventRecord }> | undefined {
    for (; this.scanned < this.streams.arrivals.length; this.scanned++) {
      const { node, at, event } = this.streams.arrivals[this.scanned]!;
      let nodes = this.byId.get(event.id);
      if (!nodes) this.byId.set(event.id, (nodes = new Map()));
      nodes.set(node, { at, event });
    }
    return this.byId.get(id);
  }
}

async function raise(node: ClusterNodeHandle, order: 'fifo' | 'agreed', n: number): Promise<string> {
  const answer = await node.daemon.request<{ id: string }>('POST', '/v1/events', { class: 'BenchDeploy', resource, attrs: { n }, order, scope: 'cluster' });
  if (answer.status !== 201) throw new Error(`POST /v1/events on ${node.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

/** The latest arrival of every id in `ids` on all of `names` (agreed: at one position), minus `since`; undefined until then. */
function latest(deliveries: Deliveries, ids: readonly string[], names: readonly string[], since: number, samePosition: boolean): number | undefined {
  let last = -Infinity;
  for (const id of ids) {
    const seen = deliveries.of(id);
    if (!seen || seen.size < names.length) return undefined;
    const positions = new Set([...seen.values()].map((s) => s.event.position));
    if (samePosition && (positions.size !== 1 || positions.has(undefined))) return undefined;
    for (const { at } of seen.values()) last = Math.max(last, at);
  }
  return Math.max(0, last - since);
}

async function timed(streams: EventStreams, what: string, check: () => number | undefined): Promise<number> {
  try {
    return await streams.until(what, check, convergeDeadlineMs);
  } catch (error) {
    process.stderr.write(`  ${(error as Error).message}\n`);
    return NaN;
  }
}

export async function measureHeal(dir: string, repeats: number, partitionMs: number, step: (line: string) => void): Promise<HealRun[]> {
  const names = ['n1', 'n2', 'n3'];
  const hooks = new PhaseHooks();
  const undo: (() => void)[] = [];
  try {
    const mesh = await CutMesh.start(names, hooks);
    const nodes = mesh.daemons(dir, hooks, { events: { classes: benchEventClasses } });
    for (const node of nodes) undo.push(onCleanup(() => void node.daemon.kill9()));
    await Promise.all(nodes.map((node) => node.daemon.start()));
    const streams = new EventStreams();
    hooks.after(() => streams.closeAll());
    for (const node of nodes) streams.connect(node.name, node.daemon.url, authHeader(node.daemon.configFile));
    const deliveries = new Deliveries(streams);
    const fullView = () => waitFor('a view of 3 on every node', async () => {
      const views = await Promise.all(nodes.map(async (node) => (await node.daemon.request<{ view: string[] }>('GET', '/v1/members')).body.view.length));
      return views.every((v) => v === names.length);
    }, convergeDeadlineMs);
    await fullView();
    const agreed: string[] = [];
    const runs: HealRun[] = [];
    let n = 0;
    for (let r = 0; r < repeats; r++) {
      const victim = nodes[(names.length - 1 - (r % names.length))]!;
      const majority = nodes.filter((node) => node !== victim);
      step(`  heal ${r + 1}/${repeats}: ${victim.name} cut off for ${partitionMs} ms, agreed events raised on both sides`);
      const before = agreed.length;
      let cutOff = 0;
      mesh.isolate([victim.name]);
      const cutAt = performance.now();
      for (let round = 0; performance.now() - cutAt < partitionMs; round++) {
        const roundAt = performance.now();
        agreed.push(...await Promise.all([raise(majority[round % 2]!, 'agreed', n++), raise(victim, 'agreed', n++)]));
        cutOff++;
        await sleep(Math.max(0, roundMs - (performance.now() - roundAt)));
      }
      // Each origin's last raise: a FIFO marker, delivered wherever its origin's prefix is held.
      const markers = await Promise.all(nodes.map((node) => raise(node, 'fifo', n++)));
      const clusterFrom = streams.arrivals.length;
      mesh.heal();
      const healAt = performance.now();
      const [heldMs, rejoinedMs, identicalMs] = await Promise.all([
        timed(streams, 'every node to hold every event', () => latest(deliveries, markers, names, healAt, false)),
        timed(streams, `the Cluster view re-admitting ${victim.name} on every node`, () => {
          const seen = new Map<string, number>();
          for (let i = clusterFrom; i < streams.arrivals.length; i++) {
            const { node, at, event } = streams.arrivals[i]!;
            if (event.class === 'Cluster' && String(event.attrs['joined'] ?? '').split(',').includes(victim.name) && !seen.has(node)) seen.set(node, at - healAt);
          }
          return seen.size === names.length ? Math.max(...seen.values()) : undefined;
        }),
        timed(streams, 'identical agreed sequences on every node', () => latest(deliveries, agreed, names, healAt, true)),
      ]);
      runs.push({ victim: victim.name, raised: agreed.length - before, raisedCutOff: cutOff, heldMs, rejoinedMs, identicalMs, listingsIdentical: await listingsIdentical(nodes, agreed.length) });
      await fullView();
    }
    return runs;
  } finally {
    await hooks.unwind();
    for (const u of undo) u();
  }
}

/** What a user lists: every node's agreed raises of this phase, ids and positions, the same and complete. */
async function listingsIdentical(nodes: ClusterNodeHandle[], count: number): Promise<boolean> {
  const render = async (node: ClusterNodeHandle) => {
    const { body } = await node.daemon.request<{ events: EventRecord[] }>('GET', `/v1/events?subscription=${raiseSubscription.id}&limit=10000`);
    return body.events.filter((e) => e.resource === resource && e.position !== undefined).map((e) => `${e.position}=${e.id}`);
  };
  try {
    await waitFor('identical listings', async () => {
      const lists = await Promise.all(nodes.map(render));
      return lists.every((l) => l.length === count && l.join() === lists[0]!.join());
    }, 5000);
    return true;
  } catch {
    return false;
  }
}

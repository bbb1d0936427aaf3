// Random fault schedules: faults during a first phase (loss, duplication,
// delay and reordering, partitions including one-way cuts, crashes with the
// store kept, stalled cores, clock skew and clock steps at restart), then a
// heal: every link mended, every crashed node restarted, the network calm.
// Sometimes a minority of nodes stays dead (not restarted at the heal, or
// killed later), to check the survivors drop them and go on. Local events (fifo and agreed) and subscription writes are raised
// at random nodes throughout, and stop a while before the end so the checker
// sees a settled cluster.

import type { ClusterConfig } from '../../services/eventd/cluster/core/index.js';
import type { Order } from '../../services/eventd/types.js';
import { Rng } from './prng.js';

export interface NetworkParams {
  loss: number;
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Share of messages held back up to longDelayMaxMs (heavy reordering). */
  longDelayChance: number;
  longDelayMaxMs: number;
}

export type ScheduleAction =
  | { t: number; kind: 'start'; node: string }
  | { t: number; kind: 'cut'; id: number; links: [string, string][] }
  | { t: number; kind: 'mend'; id: number }
  /** Every link mended, the network calm, every crashed node restarted but those kept down (dead for good). */
  | { t: number; kind: 'heal'; keepDown: string[] }
  | { t: number; kind: 'crash'; node: string }
  | { t: number; kind: 'restart'; node: string; skewMs: number }
  | { t: number; kind: 'stall'; node: string; ms: number }
  | { t: number; kind: 'event'; node: string; order: Order }
  | { t: number; kind: 'subscription'; node: string; id: string; remove: boolean };

export interface Schedule {
  seed: number;
  nodes: string[];
  /** Nodes that start from the store of an already formed cluster of exactly these; the others start empty and join through seeds. */
  formed: string[];
  seeds: Record<string, string[]>;
  skewMs: Record<string, number>;
  network: NetworkParams;
  calmNetwork: NetworkParams;
  healAt: number;
  endAt: number;
  /** Core settings other than the defaults (seeds come from `seeds`). */
  config: Partial<ClusterConfig>;
  /** Sorted by t (stable). */
  actions: ScheduleAction[];
}

/** How long the cluster is given, after the last input, to settle before the checker looks. */
export const settleMs = 3000;

export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

export function generateSchedule(seed: number, nodeCount: number): Schedule {
  const rng = new Rng(seed).fork(0x5eed);
  const nodes = nodeNames(nodeCount);
  const isFormed = !rng.chance(0.2);
  const actions: ScheduleAction[] = [];
  const healAt = rng.int(2000, 7000);

  const starts: Record<string, number> = {};
  const seeds: Record<string, string[]> = {};
  nodes.forEach((node, i) => {
    starts[node] = isFormed ? 0 : rng.int(0, 1500);
    // Every node but the first seeds from an earlier one, so the seed graph is connected.
    const others = nodes.filter((n) => n !== node);
    const mine = new Set<string>([i === 0 ? rng.pick(others) : rng.pick(nodes.slice(0, i))]);
    if (rng.chance(0.5)) mine.add(rng.pick(others));
    seeds[node] = [...mine];
    actions.push({ t: starts[node] as number, kind: 'start', node });
  });

  const skewMs: Record<string, number> = {};
  const maxSkew = rng.pick([0, 50, 200, 500]);
  for (const node of nodes) skewMs[node] = rng.int(-maxSkew, maxSkew);

  const maxDelayMs = rng.pick([2, 10, 40, 120]);
  const network: NetworkParams = {
    loss: rng.pick([0, 0.02, 0.1, 0.25]),
    duplicate: rng.pick([0, 0.05, 0.2]),
    minDelayMs: 1,
    maxDelayMs,
    longDelayChance: rng.pick([0, 0.01, 0.05]),
    longDelayMaxMs: 1000,
  };
  const calmNetwork: NetworkParams = { ...network, loss: 0, longDelayChance: 0, maxDelayMs: Math.min(maxDelayMs, 20) };

  // Fault episodes, all within [0, healAt).
  const episodes = rng.int(0, 6);
  let cutId = 0;
  const crashed = new Set<string>();
  for (let e = 0; e < episodes; e += 1) {
    const from = rng.int(0, healAt - 300);
    const to = Math.min(healAt, from + rng.int(200, 3500));
    const kind = rng.pick(['split', 'isolate', 'one-way', 'crash', 'crash', 'stall'] as const);
    if (kind === 'crash') {
      const node = rng.pick(nodes);
      crashed.add(node);
      actions.push({ t: from, kind: 'crash', node }, { t: to, kind: 'restart', node, skewMs: rng.chance(0.3) ? rng.int(-800, 800) : skewMs[node] as number });
    } else if (kind === 'stall') {
      // Short stalls must not cost a false down; long ones do, and the node must refute.
      actions.push({ t: from, kind: 'stall', node: rng.pick(nodes), ms: rng.chance(0.7) ? rng.int(50, 400) : rng.int(400, 2000) });
    } else {
      cutId += 1;
      actions.push({ t: from, kind: 'cut', id: cutId, links: cutLinks(rng, nodes, kind) }, { t: to, kind: 'mend', id: cutId });
    }
  }
  // At most a minority dies for good: some nodes that crashed during the faults are never
  // restarted (views may have shrunk around them), and later some others are killed.
  const minority = Math.floor((nodeCount - 1) / 2);
  let keepDown = crashed.size > 0 && minority > 0 && rng.chance(0.3) ? rng.shuffle([...crashed]).slice(0, rng.int(1, Math.min(crashed.size, minority))) : [];
  // Joining nodes whose every seed is dead for good could never meet: that is a misconfiguration, not a fault to survive.
  if (!isFormed && !seedsConnect(nodes.filter((n) => !keepDown.includes(n)), seeds)) keepDown = [];
  actions.push({ t: healAt, kind: 'heal', keepDown });

  let endAt = healAt + 5000;
  if (minority > keepDown.length && rng.chance(0.25)) {
    const killAt = healAt + 3000;
    const doomed = rng.shuffle(nodes.filter((n) => !keepDown.includes(n))).slice(0, rng.int(1, minority - keepDown.length));
    for (const node of doomed) actions.push({ t: killAt + rng.int(0, 500), kind: 'crash', node });
    endAt = killAt + 4500;
  }

  const lastInput = endAt - settleMs;
  const events = rng.int(10, 60);
  for (let i = 0; i < events; i += 1) {
    actions.push({ t: rng.int(0, lastInput), kind: 'event', node: rng.pick(nodes), order: rng.chance(0.5) ? 'agreed' : 'fifo' });
  }
  const writes = rng.int(0, 12);
  for (let i = 0; i < writes; i += 1) {
    actions.push({ t: rng.int(0, lastInput), kind: 'subscription', node: rng.pick(nodes), id: `s${rng.int(1, 4)}`, remove: rng.chance(0.3) });
  }

  actions.sort((a, b) => a.t - b.t);
  // Tiny frames now and then, so catch-up runs over many pull batches.
  const config: Partial<ClusterConfig> = rng.chance(0.25) ? { maxEventsPerFrame: 2 } : {};
  return { seed, nodes, formed: isFormed ? nodes : [], seeds, skewMs, network, calmNetwork, healAt, endAt, config, actions };
}

/** True when the seed lists, as an undirected graph, connect all of `nodes` (and only through them). */
function seedsConnect(nodes: string[], seeds: Record<string, string[]>): boolean {
  const alive = new Set(nodes);
  const reached = new Set<string>(nodes.slice(0, 1));
  for (let grew = true; grew;) {
    grew = false;
    for (const a of nodes) {
      for (const b of seeds[a] ?? []) {
        if (alive.has(b) && reached.has(a) !== reached.has(b)) {
          reached.add(a);
          reached.add(b);
          grew = true;
        }
      }
    }
  }
  return reached.size === alive.size;
}

function cutLinks(rng: Rng, nodes: string[], kind: 'split' | 'isolate' | 'one-way'): [string, string][] {
  const links: [string, string][] = [];
  if (kind === 'one-way') {
    const [a, b] = rng.shuffle(nodes) as [string, string];
    links.push([a, b]);
    return links;
  }
  const shuffled = rng.shuffle(nodes);
  const groups: string[][] = kind === 'isolate'
    ? [[shuffled[0] as string], shuffled.slice(1)]
    : (() => {
      const cut = rng.int(1, nodes.length - 1);
      const third = rng.chance(0.3) && nodes.length - cut >= 2 ? rng.int(cut + 1, nodes.length - 1) : nodes.length;
      return [shuffled.slice(0, cut), shuffled.slice(cut, third), shuffled.slice(third)].filter((g) => g.length > 0);
    })();
  for (const g of groups) {
    for (const h of groups) {
      if (g === h) continue;
      for (const a of g) for (const b of h) links.push([a, b]);
    }
  }
  return links;
}

/** A quiet LAN: no loss, 1-5 ms delays, no skew. */
export const lanNetwork: NetworkParams = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5, longDelayChance: 0, longDelayMaxMs: 0 };

/** A hand-written schedule for targeted tests: a formed cluster on a quiet LAN unless told otherwise. */
export function scriptedSchedule(options: {
  seed?: number;
  nodes: number;
  actions: ScheduleAction[];
  endAt: number;
  /** Default: every node. */
  formed?: string[];
  network?: NetworkParams;
  skewMs?: Record<string, number>;
  config?: Partial<ClusterConfig>;
}): Schedule {
  const nodes = nodeNames(options.nodes);
  const network = options.network ?? lanNetwork;
  const seeds: Record<string, string[]> = {};
  nodes.forEach((node, i) => { seeds[node] = [nodes[i === 0 ? 1 : 0] as string]; });
  const starts = nodes.filter((node) => !options.actions.some((a) => a.kind === 'start' && a.node === node))
    .map((node): ScheduleAction => ({ t: 0, kind: 'start', node }));
  return {
    seed: options.seed ?? 1,
    nodes,
    formed: options.formed ?? nodes,
    seeds,
    skewMs: options.skewMs ?? Object.fromEntries(nodes.map((n) => [n, 0])),
    network,
    calmNetwork: network,
    healAt: options.endAt,
    endAt: options.endAt,
    config: options.config ?? {},
    actions: [...starts, ...options.actions].sort((a, b) => a.t - b.t),
  };
}

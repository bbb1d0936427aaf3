// Three eventd daemons on loopback with the Burst producer (test/fixtures/
// burst-producer) on n1: one origin raising a known number of events at a
// known rate, and each node's progress sampled from /v1/status while it runs.
// Shared by the benchmark's throughput phases and the burst test.
import { join } from 'node:path';
import { packageRoot } from '../../services/eventd/paths.js';
import { clusterConfig, clusterKey, freeUdpPorts } from '../../test/helpers/cluster.js';
import { DaemonProcess } from '../../test/helpers/daemon.js';
import type { Hooks } from '../../test/helpers/cleanup.js';
import { setSwap } from '../../test/helpers/proc.js';
import { waitFor } from '../../test/helpers/tmp.js';

export const burstPluginDir = join(packageRoot, 'test', 'fixtures', 'plugins');
export const burstNames = ['n1', 'n2', 'n3'] as const;

/** What the burst needs of a daemon: test/helpers/daemon.ts's DaemonProcess, of this build or of a baseline build (baseline-build.ts). */
export interface BurstDaemon {
  readonly pid: number | undefined;
  readonly log: string;
  start(): Promise<unknown>;
  stop(): Promise<void>;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export type DaemonFactory = (dir: string, config: Record<string, unknown>, t?: Hooks) => BurstDaemon;

const thisBuild: DaemonFactory = (dir, config, t) => DaemonProcess.withConfig(dir, config, t);

export interface BurstNode {
  name: string;
  daemon: BurstDaemon;
  udp: string;
}

export interface BurstLoad {
  rate: number;
  total: number;
  /** Resources the samples go round (each flips at every one of its samples). */
  resources?: number;
}

/**
 * Starts n1..n3 with the Burst producer configured on n1 only (it wakes once a
 * subscription naming class Burst is created there). With `t`, the daemons are
 * the test's (disposed of on its cleanup stack); without, the caller stops them.
 */
export async function startBurstCluster(dir: string, load: BurstLoad, t?: Hooks, daemon: DaemonFactory = thisBuild): Promise<BurstNode[]> {
  const key = clusterKey();
  const ports = await freeUdpPorts(burstNames.length);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const nodes = burstNames.map((name, index): BurstNode => {
    const nodeDir = join(dir, name);
    const procRoot = join(nodeDir, 'proc');
    setSwap(procRoot, 10);
    const base = clusterConfig(nodeDir, name, procRoot, ports[index]!, peers, key);
    const config = {
      ...base,
      log: { level: 'info' },
      plugins: { dirs: [burstPluginDir] },
      producers: { PagingSpace: { periodMs: 1000 }, Burst: { rate: load.rate, total: load.total, resources: load.resources ?? 100 } },
    };
    return { name, daemon: daemon(nodeDir, config, t), udp: peers[index]! };
  });
  await Promise.all(nodes.map((node) => node.daemon.start()));
  await waitFor('a view of 3 on every node', async () => {
    const views = await Promise.all(nodes.map(async (node) => (await node.daemon.request<{ view: string[] }>('GET', '/v1/members')).body.view.length));
    return views.every((length) => length === 3);
  }, 60_000, 50);
  return nodes;
}

/** How many events a node's log holds (every class). */
export async function eventCount(node: BurstNode): Promise<number> {
  return (await node.daemon.request<{ events: { count: number } }>('GET', '/v1/status')).body.events.count;
}

/** Starts the burst on n1: a subscription (scope n1 only, so no peer wakes a producer of its own) that every Burst sample crosses. */
export async function startBurst(origin: BurstNode): Promise<string> {
  const created = await origin.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'burst', class: 'Burst', expr: 'v = 1', scope: [origin.name] });
  if (created.status !== 201) throw new Error(`burst subscription refused: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

export interface ProgressSample {
  /** ms since the burst started. */
  at: number;
  counts: number[];
}

/**
 * Samples every node's event count every `everyMs` until each holds `base[i] + total`
 * or `deadlineMs` passes; the timeline gives rates and lags.
 */
export async function followBurst(nodes: readonly BurstNode[], base: readonly number[], total: number, deadlineMs: number, everyMs = 50): Promise<ProgressSample[]> {
  const startedAt = performance.now();
  const timeline: ProgressSample[] = [];
  for (;;) {
    const at = performance.now() - startedAt;
    let counts: number[];
    try {
      counts = await Promise.all(nodes.map(async (node, i) => (await eventCount(node)) - base[i]!));
    } catch (error) {
      // A daemon whose API did not answer in time (the baseline's event loop, held by a backlog): sample again, until the deadline.
      if (at > deadlineMs) {
        if (timeline.length === 0) throw error;
        return timeline;
      }
      continue;
    }
    timeline.push({ at, counts });
    if (counts.every((count) => count >= total) || at > deadlineMs) return timeline;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Peer lag behind the origin (node 0): at each sample, how long ago the origin
 * held as many events as the peer holds now (0 when level). One value per peer per sample.
 */
export function peerLags(timeline: readonly ProgressSample[]): number[] {
  const lags: number[] = [];
  for (const sample of timeline) {
    for (let peer = 1; peer < sample.counts.length; peer++) {
      const held = sample.counts[peer]!;
      if (held >= sample.counts[0]!) {
        lags.push(0);
        continue;
      }
      // The first sample at which the origin held at least `held`.
      const first = timeline.find((s) => s.counts[0]! >= held)!;
      lags.push(sample.at - first.at);
    }
  }
  return lags;
}

/** Kernel drops and cluster frame drops by reason, from a node's /metrics. */
export async function dropFigures(node: BurstNode): Promise<{ kernel: number; refused: Map<string, number> }> {
  const text = (await node.daemon.request<string>('GET', '/metrics')).body;
  const metrics = typeof text === 'string' ? text : JSON.stringify(text);
  const kernel = Number(/^eventd_cluster_udp_kernel_drops (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const refused = new Map<string, number>();
  for (const match of metrics.matchAll(/^eventd_cluster_frames_dropped_total\{reason="([^"]+)"\} (\d+)/gm)) refused.set(match[1]!, Number(match[2]));
  return { kernel, refused };
}

export interface CatchUp {
  /** Events the frozen node lacked when it woke. */
  behind: number;
  /** From waking to holding every event, ms. */
  ms: number;
  /** behind / ms, per second. */
  rate: number;
  /** How long the node was frozen. */
  frozenMs: number;
  timeline: ProgressSample[];
}

/**
 * A partition of `node` during a burst: SIGSTOP (its peers hear nothing from
 * it, what they send it piles up in its socket buffer and then on the floor)
 * for `partitionMs` and until the origin (node 0) has recorded all `total`
 * events, SIGCONT, then the time until it holds them all: catch-up alone, not
 * bounded by the origin's rate.
 */
export async function partitionDuringBurst(nodes: readonly BurstNode[], node: BurstNode, base: readonly number[], total: number, partitionMs: number, deadlineMs: number): Promise<CatchUp> {
  const pid = node.daemon.pid;
  if (pid === undefined) throw new Error(`${node.name} is not running`);
  const frozenAt = performance.now();
  process.kill(pid, 'SIGSTOP');
  try {
    await new Promise((resolve) => setTimeout(resolve, partitionMs));
    // An origin that does not finish in time (the baseline's, its event loop held by the backlog): wake the node anyway.
    await waitFor('the origin to finish the burst', async () => (await eventCount(nodes[0]!)) - base[0]! >= total, deadlineMs, 100).catch(() => undefined);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const index = nodes.indexOf(node);
  const woke = performance.now();
  const frozenMs = woke - frozenAt;
  const first = (await eventCount(node)) - base[index]!;
  const timeline = await followBurst(nodes, base, total, deadlineMs, 20);
  const done = timeline.find((s) => s.counts[index]! >= total);
  // followBurst's clock starts a little after the wake: measured from the wake.
  const ms = done === undefined ? NaN : done.at + (performance.now() - woke - timeline.at(-1)!.at);
  return { behind: total - first, ms, rate: (total - first) / (ms / 1000), frozenMs, timeline };
}

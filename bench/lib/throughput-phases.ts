// The cluster benchmark's throughput phases (issue 11), each run on this
// build and on a baseline build in the same run: a sustained burst from one
// origin (its rate, and how far behind it each peer is), catch-up after a
// partition during a burst, and a replay flood (refusals, CPU per frame).
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { parseAddress } from '../../services/eventd/cluster/edge/udp-transport.js';
import { relayedCluster, replayRefusals, dropsByReason, metricValue, UdpRelay } from '../../test/helpers/udp-relay.js';
import { waitFor } from '../../test/helpers/tmp.js';
import { dropFigures, eventCount, followBurst, partitionDuringBurst, peerLags, startBurst, startBurstCluster, type BurstNode, type DaemonFactory } from './burst-cluster.js';
import { onCleanup } from './cleanup.js';
import { percentile } from './stats.js';

async function withCluster<T>(dir: string, rate: number, total: number, factory: DaemonFactory | undefined, work: (nodes: BurstNode[]) => Promise<T>): Promise<T> {
  const nodes = await startBurstCluster(dir, { rate, total }, undefined, factory);
  const undo = nodes.map((node) => onCleanup(() => { if (node.daemon.pid !== undefined) { try { process.kill(node.daemon.pid, 'SIGKILL'); } catch { /* gone */ } } }));
  try {
    return await work(nodes);
  } finally {
    // A daemon too busy to stop in time (the baseline under a burst) is killed by stop(): that is no failure of the figures.
    await Promise.all(nodes.map((node) => node.daemon.stop().catch(() => undefined)));
    for (const u of undo) u();
  }
}

export interface Sustained {
  total: number;
  /** Events per second the origin recorded, from its first to its last. */
  originRate: number;
  lags: number[];
  /** From the origin's last event to every peer holding it. */
  convergedAfterMs: number;
  /** Kernel receive-buffer drops per node, from eventd_cluster_udp_kernel_drops (NaN where the build has no such metric). */
  kernelDrops: number[];
  /** Node down events during the burst (false downs: nobody was stopped). */
  downs: number;
}

export async function measureSustained(dir: string, rate: number, seconds: number, factory?: DaemonFactory): Promise<Sustained> {
  const total = Math.round(rate * seconds);
  return withCluster(dir, rate, total, factory, async (nodes) => {
    const base = await Promise.all(nodes.map((node) => eventCount(node)));
    await startBurst(nodes[0]!);
    const timeline = await followBurst(nodes, base, total, seconds * 1000 + 180_000, 50);
    const firstAt = timeline.find((s) => s.counts[0]! > 0)?.at ?? 0;
    const originDone = timeline.find((s) => s.counts[0]! >= total)?.at ?? NaN;
    const allDone = timeline.find((s) => s.counts.every((c) => c >= total))?.at ?? NaN;
    const kernelDrops = await Promise.all(nodes.map(async (node) => (await dropFigures(node)).kernel));
    const downs = nodes.reduce((sum, node) => sum + node.daemon.log.split('\n').filter((line) => /"msg":"cluster view/.test(line) && /"down":\["/.test(line)).length, 0);
    return { total, originRate: total / ((originDone - firstAt) / 1000), lags: peerLags(timeline), convergedAfterMs: allDone - originDone, kernelDrops, downs };
  });
}

export interface CatchUpRun {
  behind: number;
  frozenMs: number;
  rate: number;
  ms: number;
  caughtUp: boolean;
}

/** n3 frozen (SIGSTOP) for `partitionS` from the start of a burst of `rate` x `partitionS` events; the rate at which it catches up once woken. */
export async function measureCatchUp(dir: string, rate: number, partitionS: number, factory?: DaemonFactory, deadlineMs = 120_000): Promise<CatchUpRun> {
  const total = Math.round(rate * partitionS);
  return withCluster(dir, rate, total, factory, async (nodes) => {
    const base = await Promise.all(nodes.map((node) => eventCount(node)));
    await startBurst(nodes[0]!);
    const run = await partitionDuringBurst(nodes, nodes[2]!, base, total, partitionS * 1000, deadlineMs);
    const caughtUp = Number.isFinite(run.ms);
    if (caughtUp) return { behind: run.behind, frozenMs: run.frozenMs, rate: run.rate, ms: run.ms, caughtUp };
    // Not done by the deadline: the rate over the time it had.
    const last = run.timeline.at(-1)!;
    const gained = last.counts[2]! - (total - run.behind);
    return { behind: run.behind, frozenMs: run.frozenMs, rate: gained / (last.at / 1000), ms: last.at, caughtUp };
  });
}

export interface FloodRun {
  frames: number;
  refused: number;
  /** Datagrams of the flood the kernel dropped before the socket (n3's receive buffer full), counted in eventd_cluster_udp_kernel_drops. */
  kernelDrops: number;
  /** The node's CPU (user + system) per flooded frame, beyond its idle use. */
  cpuPerFrameUs: number;
  idleCpuPct: number;
  addressKept: boolean;
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, fields 14 and 15 (1-based, counted from the pid); clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function flood(datagrams: readonly Buffer[], to: string, perSecond: number, seconds: number): Promise<number> {
  const socket = createSocket('udp4');
  const target = parseAddress(to)!;
  const startedAt = performance.now();
  let sent = 0;
  try {
    while (performance.now() - startedAt < seconds * 1000) {
      const due = Math.floor(((performance.now() - startedAt) * perSecond) / 1000);
      const sends: Promise<void>[] = [];
      for (; sent < due; sent++) sends.push(new Promise((resolve) => socket.send(datagrams[sent % datagrams.length]!, target.port, target.host, () => resolve())));
      await Promise.all(sends);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return sent;
}

/**
 * Frames n2 sealed for n3, captured by a relay between them, replayed at n3
 * from an address no node knows, at `perSecond` for `seconds`; beside it, the
 * same flood of random bytes (refused at the seal, the cheapest refusal).
 */
export async function measureReplayFlood(dir: string, perSecond: number, seconds: number): Promise<{ replay: FloodRun; junk: FloodRun }> {
  const relay = await UdpRelay.start();
  const nodes = await relayedCluster(join(dir, 'flood'), relay);
  const undo = nodes.map((node) => onCleanup(() => { if (node.daemon.pid !== undefined) { try { process.kill(node.daemon.pid, 'SIGKILL'); } catch { /* gone */ } } }));
  try {
    await Promise.all(nodes.map((node) => node.daemon.start()));
    const n3 = nodes[2]!;
    await waitFor('a view of 3 on n3', async () => (await n3.daemon.request<{ view: string[] }>('GET', '/v1/members')).body.view.length === 3, 60_000, 50);
    relay.captured.length = 0;
    await waitFor('100 frames n2 sent n3', () => relay.captured.length >= 100, 60_000, 50);
    relay.capturing = false;
    const captured = [...relay.captured];
    const pid = n3.daemon.pid!;
    const n2Address = async () => (await n3.daemon.request<{ members: { name: string; address: string | null }[] }>('GET', '/v1/members')).body.members.find((m) => m.name === 'n2')?.address;
    const addressBefore = await n2Address();
    const run = async (datagrams: readonly Buffer[], counted: (drops: Record<string, number>) => number): Promise<FloodRun> => {
      const idleFrom = cpuMs(pid);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const idle = cpuMs(pid) - idleFrom;
      const kernel = async () => (await metricValue(n3.daemon, 'eventd_cluster_udp_kernel_drops')) ?? NaN;
      const before = counted(await dropsByReason(n3.daemon));
      const kernelBefore = await kernel();
      const from = cpuMs(pid);
      const frames = await flood(datagrams, n3.udp, perSecond, seconds);
      const used = cpuMs(pid) - from;
      // The kernel counter is read into the metric once per heartbeat.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const refused = counted(await dropsByReason(n3.daemon)) - before;
      return { frames, refused, kernelDrops: (await kernel()) - kernelBefore, cpuPerFrameUs: ((used - idle) * 1000) / frames, idleCpuPct: idle / (seconds * 10), addressKept: (await n2Address()) === addressBefore };
    };
    const replay = await run(captured, replayRefusals);
    const junkDatagrams = Array.from({ length: 64 }, (_, i) => Buffer.alloc(captured[i % captured.length]!.length, i));
    const junk = await run(junkDatagrams, (drops) => Object.entries(drops).filter(([reason]) => !['replay', 'stale-boot', 'too-old', 'wrong-recipient', 'expired'].includes(reason)).reduce((a, [, n]) => a + n, 0));
    return { replay, junk };
  } finally {
    await Promise.all(nodes.map((node) => node.daemon.stop().catch(() => undefined)));
    for (const u of undo) u();
    await relay.close();
  }
}

export const lagFigures = (lags: readonly number[]) => ({ p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.length === 0 ? NaN : Math.max(...lags) });

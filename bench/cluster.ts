// Cluster benchmark: 5 eventd daemons on loopback beside 5 Serf agents, in
// one run. eventd: propagation of a threshold event from its origin to every
// node, detection of kill -9, idle traffic, and (with --soak SECONDS) false
// downs with every core loaded. Serf: user-event delivery, member-failed
// after kill -9, idle traffic. A benchmark, not a test: it prints figures
// and ratios against Serf measured in the same run. Then throughput (3
// daemons): a sustained burst from one origin with peer lag, catch-up after a
// partition during a burst, and a replay flood, beside a baseline build of the
// transport path before batching (bench/lib/throughput-report.ts).
//
//   npm run bench:cluster [-- --soak 300] [--crossings 60] [--serf-events 30] [--repeats 3] [--idle 10] [--no-serf]
//     [--rate 5000] [--seconds 30] [--partition 30] [--flood-rate 10000] [--flood-seconds 5] [--baseline REF | --baseline ''] [--only-throughput | --no-throughput]
//     [--queries 30 (0: none) | --only-queries]: query -> all answers beside serf query (bench/lib/query-phases.ts)
//     [--agreed-raises 30] [--heal-repeats 5] [--heal-partition 5000] [--only-agreed | --no-agreed]   (agreed order: bench/lib/agreed-report.ts)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterConfigDefaults } from '../services/eventd/cluster/settings.js';
import { installCleanupHandlers, onCleanup, runCleanup } from './lib/cleanup.js';
import { startCpuLoad } from './lib/cpu-load.js';
import { isNodeDown, type Arrival } from './lib/event-streams.js';
import { EventdCluster } from './lib/eventd-cluster.js';
import { measureRaises, type RaiseDelivery } from './lib/raise-phases.js';
import { runAgreed } from './lib/agreed-report.js';
import { measureDetection, measureIdle, measurePropagation, soak, subscribe, type DetectionRun, type IdleTraffic, type Propagation, type Soak } from './lib/eventd-phases.js';
import { ensureSerf, SerfCluster } from './lib/serf.js';
import { measureCliStartup, measureFailed, measureSerfIdle, measureUserEvents, type SerfDelivery, type SerfDetectionRun, type SerfIdle } from './lib/serf-phases.js';
import { median, ms, num, percentile } from './lib/stats.js';
import { comparisonTable, type ComparisonRow } from './lib/table.js';
import { runThroughput, type ThroughputOptions } from './lib/throughput-report.js';
import { runQueryBench } from './lib/query-phases.js';

const { values: options } = parseArgs({
  options: {
    soak: { type: 'string', default: '0' },
    crossings: { type: 'string', default: '60' },
    'serf-events': { type: 'string', default: '30' },
    repeats: { type: 'string', default: '3' },
    idle: { type: 'string', default: '10' },
    'no-serf': { type: 'boolean', default: false },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
    partition: { type: 'string', default: '30' },
    'flood-rate': { type: 'string', default: '10000' },
    'flood-seconds': { type: 'string', default: '5' },
    baseline: { type: 'string' },
    'only-throughput': { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
    queries: { type: 'string', default: '30' },
    'only-queries': { type: 'boolean', default: false },
    'agreed-raises': { type: 'string', default: '30' },
    'heal-repeats': { type: 'string', default: '5' },
    'heal-partition': { type: 'string', default: '5000' },
    'only-agreed': { type: 'boolean', default: false },
    'no-agreed': { type: 'boolean', default: false },
  },
});
const nodeCount = 5;
const periodMs = 20;
const warmup = nodeCount; // one untimed crossing (or user event) per origin first
const soakSeconds = Number(options.soak);
const crossings = Number(options.crossings);
const serfEvents = Number(options['serf-events']);
const repeats = Number(options.repeats);
const idleSeconds = Number(options.idle);
const throughput: ThroughputOptions = {
  rate: Number(options.rate), seconds: Number(options.seconds), partitionS: Number(options.partition),
  floodRate: Number(options['flood-rate']), floodSeconds: Number(options['flood-seconds']), baseline: options.baseline,
};
const agreed = { raises: Number(options['agreed-raises']), healRepeats: Number(options['heal-repeats']), partitionMs: Number(options['heal-partition']) };
for (const [name, value] of Object.entries({ 'agreed-raises': agreed.raises, 'heal-repeats': agreed.healRepeats, 'heal-partition': agreed.partitionMs, soak: soakSeconds, crossings, 'serf-events': serfEvents, repeats, idle: idleSeconds, rate: throughput.rate, seconds: throughput.seconds, partition: throughput.partitionS, 'flood-rate': throughput.floodRate, 'flood-seconds': throughput.floodSeconds })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: not a number >= 0`);
}

const step = (line: string) => process.stderr.write(`${line}\n`);

interface EventdResults {
  propagation: Propagation;
  detection: DetectionRun[];
  idle: IdleTraffic;
  soak: Soak | undefined;
  loadHow: string | undefined;
  /** Node down events outside the kills: at start-up and during propagation, during idle. */
  strayDowns: Arrival[];
  problems: { node: string; level: number; msg: string }[];
  malformed: number;
  raises: RaiseDelivery[];
}

interface SerfResults {
  version: string;
  cliStartup: number[];
  delivery: SerfDelivery;
  failed: SerfDetectionRun[];
  idle: SerfIdle;
}

async function runEventd(dir: string): Promise<EventdResults> {
  step(`eventd: starting ${nodeCount} daemons (PagingSpace every ${periodMs} ms)`);
  const cluster = await EventdCluster.start(dir, nodeCount, periodMs);
  const { streams } = cluster;
  await cluster.waitForView(nodeCount);
  const subscription = await subscribe(cluster);
  step(`eventd: ${crossings} threshold crossings (+${warmup} warm-up), origins in turn`);
  const propagation = await measurePropagation(cluster, subscription, crossings, warmup);
  const raises: RaiseDelivery[] = [];
  for (const order of ['fifo', 'agreed'] as const) {
    step(`eventd: ${serfEvents} raised events (${order}, +${warmup} warm-up), origins in turn`);
    raises.push(await measureRaises(cluster, order, serfEvents, warmup));
  }
  const strayDowns = streams.arrivals.filter((a) => isNodeDown(a));
  step(`eventd: kill -9 x${repeats}`);
  const detection = await measureDetection(cluster, repeats);
  step(`eventd: idle traffic over ${idleSeconds} s`);
  const idleFrom = streams.arrivals.length;
  const idle = await measureIdle(cluster, idleSeconds);
  strayDowns.push(...streams.arrivals.slice(idleFrom).filter((a) => isNodeDown(a)));
  let soakResult: Soak | undefined;
  let loadHow: string | undefined;
  if (soakSeconds > 0) {
    const load = startCpuLoad(cpus().length, soakSeconds);
    loadHow = load.how;
    step(`eventd: soak ${soakSeconds} s under ${load.how}`);
    try {
      soakResult = await soak(cluster, soakSeconds, step);
    } finally {
      load.stop();
    }
  }
  const problems = cluster.problems();
  await cluster.stop();
  return { propagation, detection, idle, soak: soakResult, loadHow, strayDowns, problems, malformed: streams.malformed, raises };
}

async function runSerf(dir: string): Promise<SerfResults | string> {
  const serf = ensureSerf();
  if ('missing' in serf) return serf.missing;
  step(`serf ${serf.version}: starting ${nodeCount} agents`);
  const cluster = await SerfCluster.start(dir, nodeCount);
  const cliStartup = await measureCliStartup(5);
  step(`serf: ${serfEvents} user events (+${warmup} warm-up), origins in turn`);
  const delivery = await measureUserEvents(cluster, serfEvents, warmup);
  step(`serf: kill -9 x${repeats}`);
  const failed = await measureFailed(cluster, repeats);
  step(`serf: idle traffic over ${idleSeconds} s`);
  const idle = await measureSerfIdle(cluster, idleSeconds);
  await cluster.stop();
  return { version: serf.version, cliStartup, delivery, failed, idle };
}

type Row = Omit<ComparisonRow, 'other'> & { serf: number };

function table(rows: Row[]): string {
  return comparisonTable(rows.map(({ serf, ...row }) => ({ ...row, other: serf })), ['metric', 'eventd', 'Serf', 'Serf/eventd', 'target'], { separator: '  ', ruleSeparator: '  ' });
}

function report(eventd: EventdResults, serf: SerfResults | string, machine: string): void {
  const p = eventd.propagation;
  const s = typeof serf === 'string' ? undefined : serf;
  const d = s?.delivery;
  const eventdDetection = median(eventd.detection.map((r) => r.slowest));
  const serfDetection = s ? median(s.failed.map((r) => r.slowest)) : NaN;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const eventdFrames = mean(eventd.idle.perNode.map((n) => n.framesPerS));
  const eventdBytes = mean(eventd.idle.perNode.map((n) => n.bytesSentPerS));
  const serfPackets = s ? mean(s.idle.perAgent.map((a) => a.packetsPerS)) : NaN;
  const serfBytes = s ? mean(s.idle.perAgent.map((a) => a.bytesPerS)) : NaN;
  const count = (value: number) => (Number.isFinite(value) ? String(value) : 'not run');
  const rows: Row[] = [
    { metric: 'propagation origin -> other node, p50', eventd: median(p.toOthers), serf: median(d?.toOthers ?? []), format: ms },
    { metric: 'propagation origin -> other node, p99', eventd: percentile(p.toOthers, 0.99), serf: percentile(d?.toOthers ?? [], 0.99), format: ms, target: '< 10 ms', met: percentile(p.toOthers, 0.99) < 10 },
    { metric: 'propagation origin -> other node, max', eventd: Math.max(...p.toOthers), serf: d ? Math.max(...d.toOthers) : NaN, format: ms },
    { metric: 'trigger -> delivered on a node, p50', eventd: median(p.writeToNode), serf: median(d?.invokeToHandler ?? []), format: ms },
    { metric: 'trigger -> delivered on all 5, p50', eventd: median(p.writeToAll), serf: median(d?.invokeToAll ?? []), format: ms },
    ...eventd.raises.flatMap((r): Row[] => [
      { metric: `raise (${r.order}) -> on all ${nodeCount}, p50 (Serf: serf event -> every handler)`, eventd: median(r.toAll), serf: median(d?.invokeToAll ?? []), format: ms },
      { metric: `raise (${r.order}) -> on all ${nodeCount}, p99`, eventd: percentile(r.toAll, 0.99), serf: percentile(d?.invokeToAll ?? [], 0.99), format: ms },
    ]),
    { metric: `kill -9 -> down on every survivor, median of ${repeats}`, eventd: eventdDetection, serf: serfDetection, format: ms, target: '< 1 s', met: eventdDetection < 1000 },
    { metric: 'idle messages sent per node per second', eventd: eventdFrames, serf: serfPackets, format: num },
    { metric: 'idle bytes sent per node per second', eventd: eventdBytes, serf: serfBytes, format: num },
  ];
  if (eventd.soak) {
    const downs = eventd.soak.falseDowns.length;
    rows.push({ metric: `false downs, ${Math.round(eventd.soak.seconds)} s with ${cpus().length} cores loaded`, eventd: downs, serf: NaN, format: count, target: '0 in 300 s', met: downs === 0 && eventd.soak.seconds >= 300 ? true : downs > 0 ? false : undefined });
  }

  const out: string[] = [];
  out.push(`cluster benchmark: ${nodeCount} eventd daemons beside ${nodeCount} Serf agents, all on 127.0.0.1 (node ${process.version})`);
  out.push(machine);
  out.push(`eventd: PagingSpace every ${periodMs} ms, heartbeat ${clusterConfigDefaults.heartbeatMs} ms, suspect after ${clusterConfigDefaults.suspectAfterMs} ms (defaults), sealed frames`);
  out.push(s ? `Serf ${s.version}: profile lan (defaults), -encrypt, \`serf event -coalesce=false\`, one handler script per agent` : `Serf: not run (${serf as string})`);
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push('how each figure is taken:');
  out.push(`  propagation: eventd = event on a node's SSE stream - on the origin's stream (${p.crossings} crossings x ${nodeCount - 1} nodes, clocked in this process);`);
  out.push(`               Serf = handler line on an agent - the origin agent's handler line (${serfEvents} user events x ${nodeCount - 1} agents, date +%s%N in the handler)`);
  out.push(`  trigger: eventd = swap file written -> SSE stream (includes the wait for the next ${periodMs} ms sample); Serf = \`serf event\` invoked -> handler line (includes the CLI and its RPC)`);
  out.push(`  raise: eventd = POST /v1/events sent -> the event on the last node's SSE stream (${serfEvents} raises per order, lost: ${eventd.raises.map((r) => `${r.order} ${r.lost}`).join(', ')}); Serf = \`serf event\` invoked -> the last agent's handler line`);
  out.push('  kill -9: SIGKILL sent -> Node down event on the stream (eventd) / member-failed handler line (Serf), slowest survivor of each run');
  out.push('  idle: eventd = eventd_cluster_frames_total and eventd_cluster_bytes_total{direction="sent"} on /metrics; Serf = memberlist.udp.sent / .tcp.sent statsd counters (bytes sealed, as on the wire)');
  out.push('');
  out.push('eventd details:');
  out.push(`  sample -> event on the origin's stream: p50 ${ms(median(p.sampleToOrigin))}, p99 ${ms(percentile(p.sampleToOrigin, 0.99))} (sample time has ms resolution); crossings not on every stream within 5 s (warm-up included): ${p.lost}; negative propagations: ${p.toOthers.filter((v) => v < 0).length}`);
  for (const run of eventd.detection) {
    out.push(`  kill -9 ${run.victim}: ${[...run.perSurvivor].map(([n, t]) => `${n} ${ms(t)}`).join(', ')}; restart -> listening ${ms(run.listenMs)}, -> full view ${ms(run.rejoinMs)}${run.unexpected.length ? `; other downs: ${describeDowns(run.unexpected)}` : ''}`);
  }
  out.push(`  idle frames per node per second by type: ${[...eventd.idle.byType].filter(([, v]) => v > 0).map(([t, v]) => `${t} ${v.toFixed(1)}`).join(', ') || 'none'}; bytes received per node per second ${num(mean(eventd.idle.perNode.map((n) => n.bytesReceivedPerS)))}`);
  out.push(`  idle per node (frames/s, bytes/s sent): ${eventd.idle.perNode.map((n) => `${n.name} ${n.framesPerS.toFixed(1)} ${num(n.bytesSentPerS)}`).join(', ')}`);
  out.push(`  Node down events outside the kills (start-up, propagation, idle): ${eventd.strayDowns.length}${eventd.strayDowns.length ? ` (${describeDowns(eventd.strayDowns)})` : ''}`);
  if (eventd.soak) {
    out.push(`  soak under ${eventd.loadHow}: ${eventd.soak.falseDowns.length} Node down events${eventd.soak.falseDowns.length ? ` (${describeDowns(eventd.soak.falseDowns)})` : ''}; views at end: ${[...eventd.soak.viewsAtEnd].map(([n, v]) => `${n} ${v.length}`).join(', ')}`);
  }
  const levels = new Map<string, number>();
  for (const problem of eventd.problems) levels.set(`${problem.level >= 50 ? 'error' : 'warn'} ${problem.msg}`, (levels.get(`${problem.level >= 50 ? 'error' : 'warn'} ${problem.msg}`) ?? 0) + 1);
  out.push(`  daemon log lines at warn or above: ${eventd.problems.length}${[...levels].slice(0, 5).map(([m, c]) => `\n    ${c}x ${m.slice(0, 160)}`).join('')}`);
  if (eventd.malformed) out.push(`  SSE messages that were not JSON: ${eventd.malformed}`);
  if (s) {
    out.push('Serf details:');
    out.push(`  \`serf event\` invoked -> returned: p50 ${ms(median(s.delivery.cliReturn))}; \`serf version\` start-up alone: p50 ${ms(median(s.cliStartup))}; user events not on every handler within 10 s (warm-up included): ${s.delivery.lost}`);
    out.push(`  invoke -> handler p50 per agent: ${[...s.delivery.perAgent].map(([n, v]) => `${n} ${ms(median(v))}`).join(', ')}`);
    for (const run of s.failed) {
      out.push(`  kill -9 ${run.victim}: ${[...run.perSurvivor].map(([n, t]) => `${n} ${ms(t)}`).join(', ')}; restart -> all alive ${ms(run.rejoinMs)}`);
    }
    out.push(`  idle TCP sends (push/pull) per agent per second: ${num(mean(s.idle.perAgent.map((a) => a.tcpSendsPerS)))} over ${s.idle.seconds.toFixed(0)} s`);
  }
  out.push(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(out.join('\n'));
}

function describeDowns(downs: Arrival[]): string {
  return downs.map((a) => `${a.node} saw ${a.event.resource} down`).join(', ');
}

installCleanupHandlers();
const machine = `machine: ${cpus().length} cpus (${cpus()[0]?.model.trim() ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start, Linux ${release()}`;
const dir = mkdtempSync(join(tmpdir(), 'eventd-bench-cluster-'));
onCleanup(() => rmSync(dir, { recursive: true, force: true }));
try {
  const only = options['only-throughput'] || options['only-queries'] || options['only-agreed'];
  if (!only) {
    const eventd = await runEventd(join(dir, 'eventd'));
    const serf = options['no-serf'] ? '--no-serf' : await runSerf(join(dir, 'serf'));
    report(eventd, serf, machine);
  } else {
    console.log(machine);
  }
  if (!options['no-agreed'] && (!only || options['only-agreed'])) console.log(await runAgreed(join(dir, 'agreed'), agreed, step));
  if (!options['no-throughput'] && (!only || options['only-throughput'])) console.log(await runThroughput(join(dir, 'throughput'), throughput, step));
  if (Number(options.queries) > 0 && (!only || options['only-queries'])) {
    console.log(await runQueryBench(join(dir, 'queries'), { nodes: nodeCount, queries: Number(options.queries), warmup, serf: !options['no-serf'], step }));
  }
  console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  runCleanup();
}

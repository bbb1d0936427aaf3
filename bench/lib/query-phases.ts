// Queries (issue 16) beside `serf query`, in one run: N eventd daemons with an
// `uptime` handler, then N Serf agents whose event handler answers; each
// query asked through the nodes in turn and timed, in this process, from the
// ask to the last of the N answers. eventd is timed twice: POST /v1/queries
// (the API, streamed answers) and `eventctl query` (the CLI, which starts a
// Node process first); Serf through `serf query` (its CLI, a Go binary, and
// its RPC), the handlers of both doing the same shell work.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { authHeader } from '../../test/helpers/api-token.js';
import { startCluster, view, type ClusterNodeHandle } from '../../test/helpers/cluster.js';
import { waitFor } from '../../test/helpers/tmp.js';
import { packageRoot } from '../../services/eventd/paths.js';
import { onCleanup } from './cleanup.js';
import { ensureSerf, SerfCluster } from './serf.js';
import { measureCliStartup } from './serf-phases.js';
import { median, ms, percentile } from './stats.js';
import { comparisonTable } from './table.js';

export interface QueryBenchOptions {
  nodes: number;
  queries: number;
  warmup: number;
  serf: boolean;
  step: (line: string) => void;
}

interface Timings {
  /** Ask -> the last of all nodes' answers, per query. */
  toAll: number[];
  /** Ask -> the first answer. */
  toFirst: number[];
  lost: number;
}

const emptyTimings = (): Timings => ({ toAll: [], toFirst: [], lost: 0 });
const timeoutS = 3;

/** Spawns a command and gives each stdout line as it arrives with its time; resolves when `done` says so (then kills it) or it exits. */
function timedLines(command: string, args: string[], done: (line: string, at: number) => boolean, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    onCleanup(() => child.kill('SIGKILL'));
    let buffered = '';
    let finished = false;
    const end = (ok: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(ok);
    };
    const timer = setTimeout(() => end(false), deadlineMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const at = performance.now();
      buffered += chunk.toString();
      let cut: number;
      while ((cut = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, cut);
        buffered = buffered.slice(cut + 1);
        if (done(line, at)) end(true);
      }
    });
    child.on('exit', () => end(false));
  });
}

/** Counts answers in lines; records the first and the `expected`-th. */
function answerClock(startedAt: number, expected: number, isAnswer: (line: string) => boolean, timings: Timings, timed: boolean) {
  let answers = 0;
  return (line: string, at: number): boolean => {
    if (!isAnswer(line)) return false;
    answers++;
    if (answers === 1 && timed) timings.toFirst.push(at - startedAt);
    if (answers < expected) return false;
    if (timed) timings.toAll.push(at - startedAt);
    return true;
  };
}

async function eventdApi(nodes: ClusterNodeHandle[], count: number, warmup: number): Promise<Timings> {
  const timings = emptyTimings();
  for (let i = 0; i < warmup + count; i++) {
    const origin = nodes[i % nodes.length]!.daemon;
    const startedAt = performance.now();
    const clock = answerClock(startedAt, nodes.length, (line) => line.startsWith('{"type":"answer"'), timings, i >= warmup);
    const response = await fetch(`${origin.url}/v1/queries`, {
      method: 'POST', headers: { ...authHeader(origin.configFile), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'uptime', payload: `q${i}`, timeout: `${timeoutS}s` }), signal: AbortSignal.timeout(timeoutS * 1000 + 5000),
    });
    let all = false;
    let buffered = '';
    if (response.body) {
      for await (const chunk of response.body) {
        const at = performance.now();
        buffered += Buffer.from(chunk).toString();
        let cut: number;
        while ((cut = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 1);
          if (clock(line, at)) all = true;
        }
      }
    }
    if (!all) timings.lost++;
  }
  return timings;
}

async function eventctlCli(nodes: ClusterNodeHandle[], count: number, warmup: number): Promise<Timings> {
  const timings = emptyTimings();
  const eventctl = join(packageRoot, 'bin', 'eventctl');
  for (let i = 0; i < warmup + count; i++) {
    const origin = nodes[i % nodes.length]!.daemon;
    const startedAt = performance.now();
    const clock = answerClock(startedAt, nodes.length, (line) => line.startsWith('{"type":"answer"'), timings, i >= warmup);
    const args = [eventctl, '--data-dir', join(origin.configFile, '..', 'data'), '--json', 'query', 'uptime', '--payload', `c${i}`, '--timeout', `${timeoutS}s`];
    if (!(await timedLines(process.execPath, args, clock, timeoutS * 1000 + 5000))) timings.lost++;
  }
  return timings;
}

async function serfQueries(cluster: SerfCluster, count: number, warmup: number): Promise<Timings> {
  const timings = emptyTimings();
  for (let i = 0; i < warmup + count; i++) {
    const origin = cluster.agents[i % cluster.agents.length]!;
    const startedAt = performance.now();
    const clock = answerClock(startedAt, cluster.agents.length, (line) => line.startsWith('Response from '), timings, i >= warmup);
    const args = ['query', `-rpc-addr=${origin.rpc}`, `-timeout=${timeoutS}s`, 'uptime', `s${i}`];
    if (!(await timedLines('serf', args, clock, timeoutS * 1000 + 5000))) timings.lost++;
  }
  return timings;
}

async function eventctlStartup(runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const startedAt = performance.now();
    await timedLines(process.execPath, [join(packageRoot, 'bin', 'eventctl'), '--version'], () => false, 10_000);
    times.push(performance.now() - startedAt);
  }
  return times;
}

/** Runs both sides and returns the report (a table beside Serf, and how each figure is taken). */
export async function runQueryBench(dir: string, options: QueryBenchOptions): Promise<string> {
  const { nodes: count, queries, warmup, step } = options;
  mkdirSync(dir, { recursive: true });
  // The same shell work as Serf's handler (bench/lib/serf.ts): a clock read, stdin read, one line out.
  const handler = join(dir, 'uptime.sh');
  writeFileSync(handler, '#!/bin/sh\nt=$(date +%s%N)\np=$(tr \'\\n\' \'|\')\necho "up $EVENTD_NODE $t $p"\n');
  chmodSync(handler, 0o755);
  step(`queries: starting ${count} eventd daemons with an uptime handler`);
  const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const nodes = await startCluster(join(dir, 'eventd'), names, { extra: { queries: { uptime: { run: handler } } } });
  for (const node of nodes) onCleanup(() => void node.daemon.kill9());
  await waitFor(`a view of ${count} on every node`, async () => (await Promise.all(nodes.map((node) => view(node.daemon)))).every((v) => v.length === count), 60_000);
  step(`queries: eventd, ${queries} queries through POST /v1/queries (+${warmup} warm-up), origins in turn`);
  const api = await eventdApi(nodes, queries, warmup);
  step(`queries: eventd, ${queries} queries through eventctl query (+${warmup} warm-up)`);
  const cli = await eventctlCli(nodes, queries, warmup);
  const eventctlStart = await eventctlStartup(5);
  await Promise.all(nodes.map((node) => node.daemon.stop()));

  let serf: Timings | undefined;
  let serfStart: number[] = [];
  const serfMissing = options.serf ? ('missing' in ensureSerf() ? 'serf is not installed' : undefined) : '--no-serf';
  if (serfMissing === undefined) {
    step(`queries: starting ${count} Serf agents`);
    const cluster = await SerfCluster.start(join(dir, 'serf'), count);
    step(`queries: Serf, ${queries} serf query (+${warmup} warm-up)`);
    serf = await serfQueries(cluster, queries, warmup);
    serfStart = await measureCliStartup(5);
    await cluster.stop();
  }
  const s = serf ?? emptyTimings();
  const rows = [
    { metric: `query -> all ${count} answers, p50 (eventd: POST /v1/queries; Serf: serf query)`, eventd: median(api.toAll), other: median(s.toAll), format: ms },
    { metric: `query -> all ${count} answers, p99`, eventd: percentile(api.toAll, 0.99), other: percentile(s.toAll, 0.99), format: ms },
    { metric: 'query -> first answer, p50', eventd: median(api.toFirst), other: median(s.toFirst), format: ms },
    { metric: `eventctl query -> all ${count} answers, p50 (CLI both sides)`, eventd: median(cli.toAll), other: median(s.toAll), format: ms },
    { metric: `eventctl query -> all ${count} answers, p99`, eventd: percentile(cli.toAll, 0.99), other: percentile(s.toAll, 0.99), format: ms },
    { metric: 'CLI start-up alone (eventctl --version / serf version), p50', eventd: median(eventctlStart), other: median(serfStart), format: ms },
  ];
  return [
    `queries: ${count} eventd daemons beside ${count} Serf agents on 127.0.0.1, ${queries} queries each way (timeout ${timeoutS}s)${serfMissing === undefined ? '' : `; Serf not run (${serfMissing})`}`,
    comparisonTable(rows, ['metric', 'eventd', 'Serf', 'Serf/eventd', 'target'], { separator: '  ', ruleSeparator: '  ' }),
    '  query: the ask (POST sent / CLI spawned) -> the line of the last answer read in this process; both handlers are a shell script (date, tr, echo)',
    `  lost (not all answers within ${timeoutS}s): eventd API ${api.lost}, eventctl ${cli.lost}, Serf ${serf ? s.lost : 'not run'}`,
  ].join('\n');
}

// What the benchmark measures on the Serf agents, the same way as on eventd
// where Serf allows it: user-event delivery, member-failed after kill -9,
// idle traffic.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { HandlerLine, SerfAgent, SerfCluster } from './serf.js';
import { sleep } from './stats.js';

const run = promisify(execFile);

export interface SerfDelivery {
  /** `serf event` invoked to a handler line, per (event, agent), origin included. */
  invokeToHandler: number[];
  /** Per agent name: the same, that agent only. */
  perAgent: Map<string, number[]>;
  /** `serf event` invoked to the last of all agents' handler lines, per event. */
  invokeToAll: number[];
  /** Handler line on an agent minus the origin's own handler line, per (event, other agent). */
  toOthers: number[];
  /** `serf event` invoked to its return (process start, RPC, exit). */
  cliReturn: number[];
  events: number;
  lost: number;
}

/** User events sent through each agent in turn, each awaited on every agent before the next. */
export async function measureUserEvents(cluster: SerfCluster, count: number, warmup: number): Promise<SerfDelivery> {
  const { agents } = cluster;
  const token = randomBytes(4).toString('hex');
  const result: SerfDelivery = { invokeToHandler: [], perAgent: new Map(agents.map((a) => [a.name, []])), invokeToAll: [], toOthers: [], cliReturn: [], events: count, lost: 0 };
  for (let i = 0; i < warmup + count; i++) {
    const origin = agents[i % agents.length]!;
    const payload = `${token}-${i}`;
    // Wall clock on both sides: the handler stamps with `date +%s%N`.
    const invokedAt = Date.now();
    const invokedMono = performance.now();
    let lines: HandlerLine[];
    try {
      await cluster.userEvent(origin, 'bench', payload);
      const returned = performance.now() - invokedMono;
      lines = await cluster.until(`user event ${payload} on every agent`, () => {
        const found = agents.map((agent) => agent.lines.find((l) => l.event === 'user' && l.payload === payload));
        return found.every((line) => line !== undefined) ? (found as HandlerLine[]) : undefined;
      }, 10_000);
      if (i < warmup) continue;
      result.cliReturn.push(returned);
    } catch (error) {
      result.lost++;
      const missing = agents.filter((agent) => !agent.lines.some((l) => l.event === 'user' && l.payload === payload)).map((a) => a.name);
      process.stderr.write(`  serf event ${i} from ${origin.name}: ${(error as Error).message} (missing on ${missing.join(', ') || 'none'})\n`);
      continue;
    }
    const originLine = lines[agents.indexOf(origin)]!;
    lines.forEach((line, index) => {
      const delay = line.wallMs - invokedAt;
      result.invokeToHandler.push(delay);
      result.perAgent.get(agents[index]!.name)!.push(delay);
      if (line !== originLine) result.toOthers.push(line.wallMs - originLine.wallMs);
    });
    result.invokeToAll.push(Math.max(...lines.map((l) => l.wallMs)) - invokedAt);
  }
  return result;
}

/** What starting the `serf` CLI costs with no RPC at all (`serf version`), per run. */
export async function measureCliStartup(runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run('serf', ['version']);
    times.push(performance.now() - started);
  }
  return times;
}

export interface SerfDetectionRun {
  victim: string;
  /** Survivor -> kill -9 to its member-failed handler line (NaN: none within the timeout). */
  perSurvivor: Map<string, number>;
  slowest: number;
  rejoinMs: number;
}

/** kill -9 of s2, s3, ... in turn, timed to member-failed on each survivor; restarted and rejoined after. */
export async function measureFailed(cluster: SerfCluster, repeats: number): Promise<SerfDetectionRun[]> {
  const { agents } = cluster;
  const runs: SerfDetectionRun[] = [];
  for (let r = 0; r < repeats; r++) {
    const victim = agents[1 + (r % (agents.length - 1))]!;
    const survivors = agents.filter((agent) => agent !== victim);
    cluster.poll();
    const from = new Map(survivors.map((s) => [s.name, s.lines.length]));
    const killedAt = Date.now();
    cluster.kill9(victim);
    const perSurvivor = new Map<string, number>();
    await Promise.all(survivors.map(async (survivor) => {
      try {
        const line = await cluster.until(`${survivor.name} to report ${victim.name} failed`, () =>
          survivor.lines.slice(from.get(survivor.name)).find((l) => l.event === 'member-failed' && failedMembers(l).includes(victim.name)), 30_000);
        perSurvivor.set(survivor.name, line.wallMs - killedAt);
      } catch {
        perSurvivor.set(survivor.name, NaN);
      }
    }));
    const restartAt = performance.now();
    await cluster.restart(victim);
    await cluster.waitForAlive(agents.length);
    const rejoinMs = performance.now() - restartAt;
    await sleep(500);
    const times = [...perSurvivor.values()];
    runs.push({ victim: victim.name, perSurvivor, slowest: times.some(Number.isNaN) ? NaN : Math.max(...times), rejoinMs });
  }
  return runs;
}

/** Member names of a member-* handler line (stdin: one "name\taddr\trole\ttags" line per member). */
function failedMembers(line: HandlerLine): string[] {
  return line.payload.split('|').map((member) => member.split('\t')[0]!.trim()).filter((name) => name !== '');
}

export interface SerfIdle {
  seconds: number;
  /** Per agent: UDP packets, UDP+TCP bytes sent per second, and TCP sends per second (push/pull every 30 s). */
  perAgent: { name: string; packetsPerS: number; bytesPerS: number; tcpSendsPerS: number }[];
}

export async function measureSerfIdle(cluster: SerfCluster, seconds: number): Promise<SerfIdle> {
  const before = cluster.traffic();
  const started = performance.now();
  await sleep(seconds * 1000);
  await sleep(200); // statsd lines are flushed every 100 ms
  const after = cluster.traffic();
  const elapsed = (performance.now() - started - 200) / 1000;
  return {
    seconds: elapsed,
    perAgent: cluster.agents.map((agent: SerfAgent, i) => ({
      name: agent.name,
      packetsPerS: (after[i]!.udpPackets - before[i]!.udpPackets) / elapsed,
      bytesPerS: (after[i]!.udpBytes + after[i]!.tcpBytes - before[i]!.udpBytes - before[i]!.tcpBytes) / elapsed,
      tcpSendsPerS: (after[i]!.tcpSends - before[i]!.tcpSends) / elapsed,
    })),
  };
}

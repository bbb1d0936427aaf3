// HashiCorp Serf (Debian package `serf`) as the baseline: N agents on
// loopback, each running one event handler that appends
// `<node> <event> <user-event-name> <date +%s%N> <stdin, newlines as |>`
// to its own file, which the benchmark reads back; a query is answered
// with one line on stdout (`serf query`: bench/lib/query-phases.ts).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from './cleanup.js';
import { freeTcpPorts, freeTcpUdpPorts } from './ports.js';
import { sleep } from './stats.js';
import { ensureCommand } from './system.js';

const run = promisify(execFile);

export interface HandlerLine {
  node: string;
  event: string;
  userEvent: string;
  /** Wall clock (ms, from the handler's `date +%s%N`). */
  wallMs: number;
  payload: string;
}

export interface Traffic {
  udpPackets: number;
  udpBytes: number;
  tcpSends: number;
  tcpBytes: number;
}

export interface SerfAgent {
  name: string;
  bind: string;
  rpc: string;
  args: string[];
  child: ChildProcess | undefined;
  handlerLog: string;
  read: number;
  lines: HandlerLine[];
  /** memberlist's own counters, received as statsd lines on a socket of the benchmark. */
  sent: Traffic;
}

/** `serf` on the PATH, installing the Debian package when it is missing; the reason when that fails. */
export function ensureSerf(): { version: string } | { missing: string } {
  const missing = ensureCommand('serf', 'serf');
  if (missing !== undefined) return { missing };
  const version = spawnSync('serf', ['version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? '?';
  const debian = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'serf'], { encoding: 'utf8' });
  return { version: debian.status === 0 && debian.stdout ? `${version} (Debian ${debian.stdout})` : version };
}

const handlerScript = (dir: string) => `#!/bin/sh
t=$(date +%s%N)
p=$(tr '\\n' '|')
echo "$SERF_SELF_NAME $SERF_EVENT \${SERF_USER_EVENT:--} $t $p" >> ${dir}/handler-$SERF_SELF_NAME.log
if [ "$SERF_EVENT" = query ]; then echo "up $SERF_SELF_NAME $t $p"; fi
`;

export class SerfCluster {
  private readonly sockets: Socket[] = [];

  private constructor(readonly dir: string, readonly agents: SerfAgent[]) {}

  /** Starts s1, then s2..sN joining it (encrypted, default "lan" profile); resolves once every agent sees N alive. */
  static async start(dir: string, count: number): Promise<SerfCluster> {
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'handler.sh');
    writeFileSync(script, handlerScript(dir));
    chmodSync(script, 0o755);
    const key = randomBytes(32).toString('base64');
    const binds = await freeTcpUdpPorts(count);
    const rpcs = await freeTcpPorts(count);
    const agents = binds.map((port, i): SerfAgent => {
      const name = `s${i + 1}`;
      return {
        name, bind: `127.0.0.1:${port}`, rpc: `127.0.0.1:${rpcs[i]}`, args: [], child: undefined,
        handlerLog: join(dir, `handler-${name}.log`), read: 0, lines: [],
        sent: { udpPackets: 0, udpBytes: 0, tcpSends: 0, tcpBytes: 0 },
      };
    });
    const cluster = new SerfCluster(dir, agents);
    onCleanup(() => cluster.killAll());
    for (const agent of agents) {
      const statsd = await cluster.statsdSocket(agent);
      const config = join(dir, `${agent.name}.json`);
      writeFileSync(config, JSON.stringify({ statsd_addr: `127.0.0.1:${statsd}` }));
      agent.args = ['agent', `-node=${agent.name}`, `-bind=${agent.bind}`, `-rpc-addr=${agent.rpc}`, `-event-handler=${script}`,
        `-encrypt=${key}`, `-config-file=${config}`, '-log-level=warn',
        ...(agent === agents[0] ? [] : [`-join=${agents[0]!.bind}`])];
    }
    cluster.spawn(agents[0]!);
    await cluster.waitForAlive(1, [agents[0]!]);
    for (const agent of agents.slice(1)) cluster.spawn(agent);
    await cluster.waitForAlive(count);
    return cluster;
  }

  /** Reads what the handlers appended since the last call. */
  poll(): void {
    for (const agent of this.agents) {
      if (!existsSync(agent.handlerLog)) continue;
      const text = readFileSync(agent.handlerLog, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end <= agent.read) continue;
      for (const line of text.slice(agent.read, end).split('\n')) {
        const match = /^(\S+) (\S+) (\S+) (\d+) ?(.*)$/.exec(line);
        if (!match) continue;
        agent.lines.push({ node: match[1]!, event: match[2]!, userEvent: match[3]!, wallMs: Number(BigInt(match[4]!) / 1000n) / 1000, payload: match[5]!.replace(/\|$/, '') });
      }
      agent.read = end;
    }
  }

  /** Polls the handler files every 2 ms until `check` returns something. */
  async until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.poll();
      const value = check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(2);
    }
  }

  async members(agent: SerfAgent): Promise<{ name: string; status: string }[]> {
    const { stdout } = await run('serf', ['members', `-rpc-addr=${agent.rpc}`, '-format=json'], { timeout: 3000 });
    return (JSON.parse(stdout) as { members: { name: string; status: string }[] }).members;
  }

  /** Waits until each of `agents` (default all) lists `count` members alive. */
  async waitForAlive(count: number, agents = this.agents, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const alive = await Promise.all(agents.map(async (agent) => {
        try {
          return (await this.members(agent)).filter((m) => m.status === 'alive').length;
        } catch {
          return 0;
        }
      }));
      if (alive.every((n) => n === count)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} alive Serf members (saw ${alive.join(', ')})`);
      await sleep(50);
    }
  }

  /** `serf event` through `origin`'s RPC; resolves when the command returned. */
  async userEvent(origin: SerfAgent, name: string, payload: string): Promise<void> {
    await run('serf', ['event', '-coalesce=false', `-rpc-addr=${origin.rpc}`, name, payload], { timeout: 5000 });
  }

  kill9(agent: SerfAgent): void {
    agent.child?.kill('SIGKILL');
    agent.child = undefined;
  }

  async restart(agent: SerfAgent): Promise<void> {
    this.spawn(agent);
  }

  killAll(): void {
    for (const agent of this.agents) this.kill9(agent);
    for (const socket of this.sockets.splice(0)) socket.close();
  }

  /** SIGINT: a Serf agent leaves the cluster gracefully and exits. */
  async stop(): Promise<void> {
    await Promise.all(this.agents.map(async (agent) => {
      const child = agent.child;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      agent.child = undefined;
    }));
    this.killAll();
  }

  traffic(): Traffic[] {
    return this.agents.map((agent) => ({ ...agent.sent }));
  }

  private spawn(agent: SerfAgent): void {
    const out = openSync(join(this.dir, `${agent.name}.out`), 'a');
    agent.child = spawn('serf', agent.args, { stdio: ['ignore', out, out] });
    closeSync(out);
  }

  private statsdSocket(agent: SerfAgent): Promise<number> {
    const socket = createSocket('udp4');
    this.sockets.push(socket);
    socket.on('message', (message) => {
      for (const match of message.toString().matchAll(/memberlist\.(udp|tcp)\.sent:([\d.]+)\|c/g)) {
        const bytes = Number(match[2]);
        if (match[1] === 'udp') { agent.sent.udpPackets++; agent.sent.udpBytes += bytes; } else { agent.sent.tcpSends++; agent.sent.tcpBytes += bytes; }
      }
    });
    return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
  }
}

// Hosts as network namespaces on one bridge, with eventd daemons running
// inside them: for tests and benchmarks of failover on real interfaces.
//
// Every namespace is named `<tag>-<host>` (tag `ed-XXXXXX`, random) and the
// bridge lives in its own namespace `<tag>-br`: both ends of every veth are
// created inside namespaces, so nothing appears on the machine's own network
// and all traffic (a random 10.231.X.0/24) stays inside. destroy() kills every
// process left in those namespaces and deletes them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../services/eventd/paths.js';
import { authHeader } from './api-token.js';
import { exitOf, killDeadlineMs, startDeadlineMs } from './daemon.js';
import { GiveUp, waitFor } from './tmp.js';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', env: options.env, timeout: options.timeoutMs ?? 20_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

/** The same without blocking the event loop (daemon API calls, polls during a measurement). */
export function runAsync(command: string, args: readonly string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => (stderr += String(error)));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function has(command: string): boolean {
  return run('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** A pause that is part of a scenario (watch a window for something that must not happen); never to wait for something to happen. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Why namespaces cannot be used here, or undefined when they can (creates and deletes a probe namespace). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (!has('ip')) return 'the ip command (iproute2) is not installed';
  const probe = `ed-probe-${randomBytes(3).toString('hex')}`;
  const added = run('ip', ['netns', 'add', probe]);
  if (added.status !== 0) return `ip netns add is not permitted here: ${added.stderr.trim()}`;
  run('ip', ['netns', 'del', probe]);
  return undefined;
}

export class NetnsLab {
  /** host -> its address on the bridge (`<subnet>.<octet>`). */
  readonly addresses: Record<string, string> = {};
  private readonly created: string[] = [];
  private destroyed = false;

  /**
   * Host name -> last octet of its address. Throws (after deleting what it
   * created) when a step fails; check netnsUnavailable() first to skip.
   */
  constructor(hosts: Record<string, number>, readonly tag = `ed-${randomBytes(3).toString('hex')}`, readonly subnet = `10.231.${randomBytes(1)[0] ?? 0}`) {
    try {
      const br = this.ns('br');
      this.ip('netns', 'add', br);
      this.created.push(br);
      this.ip('-n', br, 'link', 'add', 'br0', 'type', 'bridge');
      this.ip('-n', br, 'link', 'set', 'br0', 'up');
      for (const [host, octet] of Object.entries(hosts)) {
        const ns = this.ns(host);
        this.ip('netns', 'add', ns);
        this.created.push(ns);
        this.ip('-n', br, 'link', 'add', `v-${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        this.ip('-n', br, 'link', 'set', `v-${host}`, 'master', 'br0', 'up');
        this.ip('-n', ns, 'link', 'set', 'lo', 'up');
        this.addresses[host] = `${subnet}.${octet}`;
        this.ip('-n', ns, 'addr', 'add', `${this.addresses[host]}/24`, 'dev', 'eth0');
        this.ip('-n', ns, 'link', 'set', 'eth0', 'up');
      }
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  ns(host: string): string {
    return `${this.tag}-${host}`;
  }

  /** `ip ARGS`; throws with ip's message. */
  ip(...args: string[]): string {
    const result = run('ip', args);
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** The MAC of the host's eth0. */
  mac(host: string): string {
    const [link] = JSON.parse(this.ip('-j', '-n', this.ns(host), 'link', 'show', 'dev', 'eth0')) as { address: string }[];
    return link?.address ?? '';
  }

  /** The host's neighbour entry for `address` on eth0: the MAC it sends to (undefined: none). */
  neighbour(host: string, address: string): string | undefined {
    const entries = JSON.parse(this.ip('-j', '-n', this.ns(host), 'neigh', 'show', 'to', address, 'dev', 'eth0')) as { lladdr?: string }[];
    return entries[0]?.lladdr;
  }

  /** Whether `address` is configured on the host's eth0 (with any prefix length). */
  holds(host: string, address: string): boolean {
    return this.ip('-4', '-o', '-n', this.ns(host), 'addr', 'show', 'dev', 'eth0', 'to', `${address}/32`).trim() !== '';
  }

  /** The hosts (of `among`) with `address` configured. */
  holders(address: string, among: readonly string[]): string[] {
    return among.filter((host) => this.holds(host, address));
  }

  async holdersAsync(address: string, among: readonly string[]): Promise<string[]> {
    const shown = await Promise.all(among.map((host) => runAsync('ip', ['-4', '-o', '-n', this.ns(host), 'addr', 'show', 'dev', 'eth0', 'to', `${address}/32`])));
    return among.filter((_, index) => shown[index]!.status === 0 && shown[index]!.stdout.trim() !== '');
  }

  /** Removes `address` from the host's eth0 if it is there. */
  dropAddress(host: string, address: string): void {
    const line = this.ip('-4', '-o', '-n', this.ns(host), 'addr', 'show', 'dev', 'eth0', 'to', `${address}/32`).trim();
    const cidr = /inet (\S+)/.exec(line)?.[1];
    if (cidr) this.ip('-n', this.ns(host), 'addr', 'del', cidr, 'dev', 'eth0');
  }

  /** The host's eth0 down: it is cut off the bridge (its bridge port loses carrier). */
  linkDown(host: string): void {
    this.ip('-n', this.ns(host), 'link', 'set', 'eth0', 'down');
  }

  linkUp(host: string): void {
    this.ip('-n', this.ns(host), 'link', 'set', 'eth0', 'up');
  }

  /** One ping from the host; true on a reply. */
  ping(from: string, address: string, waitS = 1): boolean {
    return run('ip', ['netns', 'exec', this.ns(from), 'ping', '-n', '-c', '1', '-W', String(waitS), address]).status === 0;
  }

  /** Pings until a reply (bridge ports may still be learning), or false after `timeoutMs`. */
  async pingUntil(from: string, address: string, timeoutMs = 5_000): Promise<boolean> {
    const reply = async () => (await runAsync('ip', ['netns', 'exec', this.ns(from), 'ping', '-n', '-c', '1', '-W', '1', address])).status === 0;
    return waitFor(`a ping reply from ${address} in ${from}`, reply, timeoutMs, 100).catch(() => false);
  }

  /** Kills every process still in these namespaces, then deletes them; idempotent and synchronous (safe in exit handlers). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ns of [...this.created].reverse()) {
      for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      run('ip', ['netns', 'del', ns]);
    }
  }
}

/** A reply seen by a Prober: when it arrived (epoch ms, the client's clock = ours). */
export interface Reply {
  at: number;
  seq: number;
}

/**
 * One long-running `ping -D -i INTERVAL` from a host: every reply with its
 * arrival time, so "the first reply after T" is known to the interval.
 */
export class Prober {
  readonly replies: Reply[] = [];
  private readonly child: ChildProcess;
  private buffer = '';
  private waiters: Array<() => void> = [];

  constructor(lab: NetnsLab, from: string, readonly address: string, intervalS = 0.02) {
    this.child = spawn('ip', ['netns', 'exec', lab.ns(from), 'ping', '-n', '-D', '-i', String(intervalS), '-W', '1', address], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/.exec(line);
        if (match) this.replies.push({ at: Number(match[1]) * 1000, seq: Number(match[2]) });
      }
      if (this.replies.length > 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The first reply that arrived after `after` (epoch ms), waiting up to `timeoutMs` for it; undefined if none came. */
  async firstReplyAfter(after: number, timeoutMs: number): Promise<Reply | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.replies.find((r) => r.at > after);
      if (reply) return reply;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** An address appearing (`added`) on or leaving (`deleted`) a host, stamped when `ip monitor` reported it. */
export interface AddressChange {
  host: string;
  added: boolean;
  at: number;
}

/** `ip monitor address` in each host: every change of one address, as it happens. */
export class AddressMonitor {
  readonly changes: AddressChange[] = [];
  private readonly children: ChildProcess[] = [];

  constructor(lab: NetnsLab, hosts: readonly string[], readonly address: string) {
    for (const host of hosts) {
      const child = spawn('ip', ['-o', '-n', lab.ns(host), 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let buffer = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const at = Date.now();
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          const match = /^(Deleted )?\d+: \S+\s+inet (\S+)\//.exec(line);
          if (match && match[2] === address) this.changes.push({ host, added: match[1] === undefined, at });
        }
      });
      this.children.push(child);
    }
  }

  /** Changes at or after `after` (epoch ms). */
  since(after: number): AddressChange[] {
    return this.changes.filter((change) => change.at >= after);
  }

  stop(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export interface NetnsClusterOptions {
  /** The failover group's address (in the lab's subnet). */
  vip: string;
  /** The UDP port of every node (each namespace has its own addresses, so one port for all). */
  clusterPort?: number;
  /** The API port, on each namespace's own loopback. */
  apiPort?: number;
  /** Merged into the `failover` section. */
  failover?: Record<string, unknown>;
  /** Merged into the `cluster` section. */
  cluster?: Record<string, unknown>;
  logLevel?: string;
}

/** Configs for an eventd trio (or more) running in `hosts` of the lab, one failover group `vip` with `ip` on eth0. */
export function netnsClusterConfigs(lab: NetnsLab, dir: string, hosts: readonly string[], options: NetnsClusterOptions): Map<string, Record<string, unknown>> {
  const port = options.clusterPort ?? 7946;
  const key = randomBytes(32).toString('base64');
  const peers = hosts.map((host) => `${lab.addresses[host]}:${port}`);
  const configs = new Map<string, Record<string, unknown>>();
  for (const host of hosts) {
    configs.set(host, {
      node: host,
      dataDir: join(dir, host, 'data'),
      api: { host: '127.0.0.1', port: options.apiPort ?? 7070 },
      cluster: { name: 'netns', bind: { host: lab.addresses[host], port }, peers, keys: [key], ...options.cluster },
      failover: { groups: [{ name: 'vip', ip: { address: options.vip, prefixLength: 24, interface: 'eth0' } }], ...options.failover },
      log: { level: options.logLevel ?? 'info' },
    });
  }
  return configs;
}

/**
 * `bin/eventd` inside a namespace (`ip netns exec` execs it, so the child is
 * the daemon itself), in its own process group, logging to a file. Its API is
 * on the namespace's loopback: reached with curl run in the namespace.
 */
export class NetnsDaemon {
  readonly logFile: string;
  private child: ChildProcess | undefined;

  constructor(readonly name: string, readonly netns: string, readonly configFile: string, readonly apiPort: number) {
    this.logFile = `${configFile.replace(/\.json$/, '')}.log`;
  }

  static withConfig(name: string, netns: string, dir: string, config: Record<string, unknown>): NetnsDaemon {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const api = config['api'] as { port?: number } | undefined;
    return new NetnsDaemon(name, netns, file, api?.port ?? 7070);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon; resolves once it logged "eventd listening". */
  async start(timeoutMs = startDeadlineMs): Promise<void> {
    const offset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const fd = openSync(this.logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', this.netns, process.execPath, join(packageRoot, 'bin', 'eventd'), '--config', this.configFile], {
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    this.child = child;
    const output = () => readFileSync(this.logFile, 'utf8').slice(offset);
    try {
      await waitFor(`${this.name}: eventd to listen`, () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`${this.name}: eventd exited (${child.exitCode ?? child.signalCode})`);
        return output().includes('eventd listening on');
      }, timeoutMs, 50);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${output()}`, { cause: error });
    }
  }

  /** kill -9 of the daemon's process group (the daemon and any producer it spawned; scripts run in their own groups). */
  async kill9(): Promise<void> {
    const child = this.child;
    this.kill9Now();
    if (child && !(await exitOf(child, killDeadlineMs))) throw new Error(`${this.name}: eventd (pid ${child.pid}) still running ${killDeadlineMs} ms after SIGKILL`);
  }

  /** The same, synchronously (exit handlers); does not wait for the exit. */
  kill9Now(): void {
    const child = this.child;
    if (!child || child.pid === undefined || !this.running) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }

  /** GET `path` of the daemon's API (curl in its namespace); throws unless 2xx JSON. */
  async get<T>(path: string): Promise<T> {
    const auth = `authorization: ${authHeader(this.configFile).authorization}`;
    const result = await runAsync('ip', ['netns', 'exec', this.netns, 'curl', '-sS', '-f', '-m', '3', '-H', auth, `http://127.0.0.1:${this.apiPort}${path}`], 5_000);
    if (result.status !== 0) throw new Error(`${this.name} GET ${path}: curl exit ${result.status}: ${result.stderr.trim()}`);
    return JSON.parse(result.stdout) as T;
  }

  async view(): Promise<string[]> {
    return (await this.get<{ view: string[] }>('/v1/members')).view;
  }

  async groups(): Promise<Array<{ name: string; owner: string | null; target: string | null; local: string }>> {
    return (await this.get<{ groups: Array<{ name: string; owner: string | null; target: string | null; local: string }> }>('/v1/groups')).groups;
  }

  /** The log (every run of this daemon, appended). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The last `lines` lines of the log. */
  tail(lines = 30): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }
}

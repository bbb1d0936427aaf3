// Pieces of the failover multi-process tests: a group script that logs when
// each node starts and stops the group (so a test can assert no overlap), a
// fake watchdog device (a FIFO read by the test, never /dev/watchdog), and a
// loopback daemon whose pid the test can signal (kill -STOP, SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { authHeader } from './api-token.js';
import { chmodSync, closeSync, createReadStream, existsSync, openSync, readFileSync, statSync, writeFileSync, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import type { GroupList } from '../../services/eventd/api/responses.js';
import { packageRoot } from '../../services/eventd/paths.js';
import { run, sleep } from './netns.js';

/** One node running the group: from its start script's first line to its stop script's last. */
export interface Holding {
  node: string;
  from: number;
  to: number;
  startReason: string;
  stopReason?: string;
}

/**
 * A start/stop script that appends `<epoch ms> <node> <action> begin|end <reason>`
 * to `log`; the stop takes `stopMs` (a service that needs a moment to stop).
 */
export function loggingGroupScript(dir: string, stopMs = 100): { script: string; log: string } {
  const log = join(dir, 'group.log');
  writeFileSync(log, '');
  const script = join(dir, 'group.sh');
  const stamp = '$(date +%s%3N)';
  writeFileSync(script, `#!/bin/sh
echo "${stamp} $EVENTD_NODE $EVENTD_ACTION begin $EVENTD_REASON" >> "${log}"
[ "$EVENTD_ACTION" = stop ] && sleep ${(stopMs / 1000).toFixed(3)}
echo "${stamp} $EVENTD_NODE $EVENTD_ACTION end $EVENTD_REASON" >> "${log}"
exit 0
`);
  chmodSync(script, 0o755);
  return { script, log };
}

/** The holdings the log shows; one still running has `to` = Infinity. */
export function holdingsOf(log: string): Holding[] {
  const open = new Map<string, Holding>();
  const holdings: Holding[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const match = /^(\d+) (\S+) (start|stop) (begin|end) ?(.*)$/.exec(line);
    if (!match) continue;
    const [, at = '', node = '', action, edge, reason = ''] = match;
    if (action === 'start' && edge === 'begin' && !open.has(node)) {
      const holding: Holding = { node, from: Number(at), to: Infinity, startReason: reason };
      open.set(node, holding);
      holdings.push(holding);
    } else if (action === 'stop' && edge === 'end' && open.has(node)) {
      const holding = open.get(node)!;
      holding.to = Number(at);
      holding.stopReason = reason;
      open.delete(node);
    }
  }
  return holdings;
}

/** Pairs of holdings of two nodes that overlap in time, described. */
export function overlaps(holdings: readonly Holding[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < holdings.length; i++) {
    for (let j = i + 1; j < holdings.length; j++) {
      const a = holdings[i]!;
      const b = holdings[j]!;
      if (a.node === b.node) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to);
      if (from < to) found.push(`${a.node} and ${b.node} both ran the group for ${to === Infinity ? 'ever' : `${to - from} ms`} (from ${from})`);
    }
  }
  return found;
}

/**
 * A fake watchdog device: a FIFO the daemon opens as failover.watchdog.device
 * and writes to when it pets; the test records when each pet arrived. A pet
 * gap longer than the timeout means the machine would have been reset.
 */
export class FakeWatchdog {
  readonly pets: number[] = [];
  disarmed = false;
  private readonly stream: ReadStream;

  constructor(readonly path: string, readonly timeoutMs: number) {
    const made = run('mkfifo', [path]);
    if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr}`);
    this.stream = createReadStream(path);
    this.stream.on('data', (chunk: Buffer | string) => {
      const text = chunk.toString();
      if (text.includes('V')) this.disarmed = true;
      this.pets.push(Date.now());
    });
    this.stream.on('error', () => {});
  }

  /** When the watchdog would first have fired at or after `since` (the last pet + timeout); undefined if it never would have by `until`. */
  resetAt(since: number, until = Date.now()): number | undefined {
    let last = [...this.pets].reverse().find((t) => t <= since);
    for (const t of this.pets) {
      if (t <= since) continue;
      if (last !== undefined && t - last > this.timeoutMs) return last + this.timeoutMs;
      last = t;
    }
    return last !== undefined && until - last > this.timeoutMs ? last + this.timeoutMs : undefined;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** `bin/eventd` on loopback in its own process group, logging to a file; the test can signal its pid. */
export class SignalledDaemon {
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  url = '';

  constructor(readonly name: string, readonly configFile: string) {
    this.logFile = configFile.replace(/\.json$/, '.log');
  }

  static withConfig(name: string, dir: string, config: Record<string, unknown>): SignalledDaemon {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    return new SignalledDaemon(name, file);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const offset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'eventd'), '--config', this.configFile], { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const output = readFileSync(this.logFile, 'utf8').slice(offset);
      const url = /eventd listening on (http:\/\/[^"\s]+)/.exec(output)?.[1];
      if (url) {
        this.url = url;
        return;
      }
      if (!this.running) throw new Error(`${this.name}: eventd exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: eventd did not listen within ${timeoutMs} ms:\n${output}`);
      await sleep(50);
    }
  }

  /** Sends `signal` to the daemon process alone (not its scripts). */
  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid !== undefined && this.running) process.kill(this.child.pid, signal);
  }

  /** SIGTERM, then waits for the exit (a graceful stop). */
  async terminate(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    await this.exited;
  }

  /** kill -9 of its process group (and a SIGCONT first would not matter: SIGKILL ends a stopped process too). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined || !this.running) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await this.exited;
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(this.url + path, { headers: authHeader(this.configFile), signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`${this.name} GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }

  async post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(this.url + path, {
      method: 'POST', headers: { 'content-type': 'application/json', ...authHeader(this.configFile) }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

/** What GET /v1/groups answers (the CLI's type of it). */
export type GroupsBody = GroupList;

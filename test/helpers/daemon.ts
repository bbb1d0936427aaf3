import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../services/eventd/paths.js';
import { authHeader } from './api-token.js';
import { ProducerProcesses } from '../../services/eventd/producers/orphans.js';
import { defer, type Hooks } from './cleanup.js';
import { GiveUp, waitFor } from './tmp.js';

/** How long a daemon has to exit after SIGTERM before it gets SIGKILL. */
export const stopGraceMs = 15_000;
/** How long a process has to be gone after SIGKILL (the kernel's part: short unless something is badly wrong). */
export const killDeadlineMs = 10_000;

/**
 * How long a start may take to log "listening": generous, as a loaded machine
 * (several suites on 2 cores) takes tens of seconds; a daemon that exits
 * instead fails at once.
 */
export const startDeadlineMs = 60_000;

/** How long one API request may take. */
export const requestDeadlineMs = 20_000;

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves with how `child` ended, or undefined if it still runs after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<Exit | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(undefined); }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => { clearTimeout(timer); resolve({ code, signal }); };
    child.once('exit', onExit);
  });
}

/** A real `bin/eventd` process, started with a config file, reached over loopback. */
export class DaemonProcess {
  private child: ChildProcess | undefined;
  private output = '';
  url = '';

  /**
   * With `t`, the daemon is the test's: disposed of (stopped, its producers'
   * process groups reaped) on the test's cleanup stack, so before any folder
   * made earlier is removed.
   */
  constructor(readonly configFile: string, readonly extraArgs: string[] = [], t?: Hooks) {
    if (t) defer(t, () => this.dispose(), `dispose of eventd ${configFile}`);
  }

  static withConfig(dir: string, config: Record<string, unknown>, t?: Hooks): DaemonProcess {
    const file = join(dir, 'eventd.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    return new DaemonProcess(file, [], t);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the daemon and waits for its "listening" log line (port 0 picks a free port). */
  async start(): Promise<this> {
    this.output = '';
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'eventd'), '--config', this.configFile, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const url = await waitFor('eventd to listen', () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`eventd exited ${child.exitCode ?? child.signalCode}:\n${this.output}`);
      return /eventd listening on (http:\/\/[^"\s]+)/.exec(this.output)?.[1];
    }, startDeadlineMs);
    this.url = url;
    return this;
  }

  /** kill -9: no shutdown code runs (its producers' process groups are left running, as after a real kill -9). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    if (!(await exitOf(child, killDeadlineMs))) throw new Error(`eventd (pid ${child.pid}) still running ${killDeadlineMs} ms after SIGKILL`);
  }

  /** A graceful stop (SIGTERM); SIGKILL if it has not exited after `graceMs`. Throws if it outlives that too. */
  async stop(graceMs = stopGraceMs): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    if (await exitOf(child, graceMs)) return;
    child.kill('SIGKILL');
    if (!(await exitOf(child, killDeadlineMs))) throw new Error(`eventd (pid ${child.pid}) still running after SIGTERM, ${graceMs} ms, SIGKILL and ${killDeadlineMs} ms`);
    throw new Error(`eventd (pid ${child.pid}) ignored SIGTERM for ${graceMs} ms and was killed:\n${this.output.split('\n').slice(-20).join('\n')}`);
  }

  /** How the daemon ended, waiting up to `timeoutMs` for it to end by itself; undefined if it still runs. */
  async exit(timeoutMs: number): Promise<Exit | undefined> {
    if (!this.child) throw new Error('eventd was never started');
    return exitOf(this.child, timeoutMs);
  }

  /**
   * The end of a test: stopped (as `stop`), then any producer process group
   * it left running (after a kill -9 in the test) killed, as its next start
   * would. Only then may its folder go.
   */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      const dataDir = this.dataDir();
      if (dataDir) new ProducerProcesses(dataDir).reapOrphans();
    }
  }

  /** The data folder named in the config file (relative to the file), if the file names one. */
  private dataDir(): string | undefined {
    try {
      const config = JSON.parse(readFileSync(this.configFile, 'utf8')) as { dataDir?: unknown };
      return typeof config.dataDir === 'string' ? resolve(dirname(this.configFile), config.dataDir) : undefined;
    } catch {
      return undefined;
    }
  }

  get log(): string {
    return this.output;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(this.url + path, {
      method,
      headers: { ...authHeader(this.configFile), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      // A daemon that stops answering (stopped, wedged) fails the request, not the whole test run.
      signal: AbortSignal.timeout(requestDeadlineMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* text bodies (metrics) stay text */ }
    return { status: response.status, body: parsed as T };
  }
}

/** Waits until the daemon has evaluated `count` samples taken after this moment. */
export async function freshSamples(daemon: DaemonProcess, count = 3): Promise<void> {
  const since = Date.now();
  let seen = 0;
  let last = '';
  await waitFor(`${count} fresh PagingSpace samples`, async () => {
    const { body } = await daemon.request<{ resources: { resource: string; time: string }[] }>('GET', '/v1/resources?class=PagingSpace');
    const total = body.resources.find((r) => r.resource === 'total');
    if (total && Date.parse(total.time) > since && total.time !== last) { last = total.time; seen++; }
    return seen >= count;
  });
}

// A real `eventctl monitor` process against one daemon (its unix socket, found
// from the data folder as a user's eventctl finds it), its stdout read line by
// line; waits have deadlines, and the process is killed on the test's cleanup stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defer, type Hooks } from './cleanup.js';
import { exitOf, type DaemonProcess } from './daemon.js';
import { GiveUp, waitFor } from './tmp.js';

const eventctl = fileURLToPath(new URL('../../../bin/eventctl', import.meta.url));

export class MonitorProcess {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';

  constructor(dataDir: string, args: readonly string[], t: Hooks) {
    const env = { ...process.env };
    delete env.EVENTD_API;
    delete env.EVENTD_TOKEN;
    this.child = spawn(process.execPath, [eventctl, '--data-dir', dataDir, 'monitor', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    defer(t, () => this.kill(), `kill eventctl monitor ${args.join(' ')}`);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('eventctl monitor did not start');
    return this.child.pid;
  }

  /** Complete lines printed so far. */
  lines(): string[] {
    const lines = this.stdout.split('\n');
    lines.pop();
    return lines;
  }

  /** Waits for a line `test` accepts; fails at once if eventctl exited. */
  line(what: string, test: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    return waitFor(`eventctl monitor to print ${what}`, () => {
      const found = this.lines().find(test);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new GiveUp(`eventctl monitor exited ${this.child.exitCode ?? this.child.signalCode}: ${this.stderr}`);
      return undefined;
    }, timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get errors(): string {
    return this.stderr;
  }

  /** SIGTERM (a stopped process is continued first), SIGKILL if it lingers; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    if (await exitOf(this.child, 5_000)) return;
    this.child.kill('SIGKILL');
    if (!(await exitOf(this.child, 5_000))) throw new Error(`eventctl monitor (pid ${this.child.pid}) still running after SIGKILL`);
  }
}

/** The daemon's count of connected monitor clients (/metrics). */
export async function monitorClients(daemon: DaemonProcess): Promise<number> {
  return metric(daemon, 'eventd_monitor_clients');
}

export async function metric(daemon: DaemonProcess, name: string): Promise<number> {
  const { body } = await daemon.request<string>('GET', '/metrics');
  const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(String(body));
  if (!found) throw new Error(`no ${name} in /metrics`);
  return Number(found[1]);
}

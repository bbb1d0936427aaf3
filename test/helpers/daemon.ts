import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../services/eventd/paths.js';
import { authHeader } from './api-token.js';
import { waitFor } from './tmp.js';

/** A real `bin/eventd` process, started with a config file, reached over loopback. */
export class DaemonProcess {
  private child: ChildProcess | undefined;
  private output = '';
  url = '';

  constructor(readonly configFile: string, readonly extraArgs: string[] = []) {}

  static withConfig(dir: string, config: Record<string, unknown>): DaemonProcess {
    const file = join(dir, 'eventd.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    return new DaemonProcess(file);
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
      if (child.exitCode !== null) throw new Error(`eventd exited ${child.exitCode}:\n${this.output}`);
      return /eventd listening on (http:\/\/[^"\s]+)/.exec(this.output)?.[1];
    }, 20_000);
    this.url = url;
    return this;
  }

  /** kill -9: no shutdown code runs. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  get log(): string {
    return this.output;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(this.url + path, {
      method,
      headers: { ...authHeader(this.configFile), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
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

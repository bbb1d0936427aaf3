// A cluster of real daemons for the messaging tests: each node gets its own
// extra config (tags, query handlers), all declare the Deploy event class.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Hooks } from './cleanup.js';
import { startCluster, type ClusterNodeHandle } from './cluster.js';

export const deployClass = { attributes: { version: { type: 'number' }, by: { type: 'string' }, canary: { type: 'boolean' } } };

/** Starts one daemon per name with `events.classes.Deploy` and its own extra config; resolves once each listens. */
export function startMessagingCluster(dir: string, names: readonly string[], extra: (name: string) => Record<string, unknown>, t: Hooks): Promise<ClusterNodeHandle[]> {
  return startCluster(dir, names, { extra: (name) => ({ events: { classes: { Deploy: deployClass } }, ...extra(name) }), t });
}

const eventctl = fileURLToPath(new URL('../../../bin/eventctl', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs eventctl against the daemon whose data folder is given; killed after `deadlineMs`. */
export function runEventctl(dataDir: string, args: readonly string[], deadlineMs = 20_000): Promise<CliResult> {
  const child = spawn(process.execPath, [eventctl, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

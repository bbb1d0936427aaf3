// The real eventctl against one daemon (its URL; the token found as a user's
// eventctl finds it), with a deadline: a test may fail, never hang.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../services/eventd/paths.js';
import type { DaemonProcess } from './daemon.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function eventctl(daemon: DaemonProcess, args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
  const env = { ...process.env };
  delete env.EVENTD_API;
  delete env.EVENTD_TOKEN;
  return new Promise((resolve) => {
    execFile(process.execPath, [join(packageRoot, 'bin', 'eventctl'), '--api', daemon.url, ...args], { timeout: timeoutMs, env }, (error, stdout, stderr) => {
      // Killed (its deadline, a signal): no exit code, and not mistaken for a refusal (exit 1).
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

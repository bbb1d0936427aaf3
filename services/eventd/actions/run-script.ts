import { spawn, type ChildProcess } from 'node:child_process';
import { OutputCapture } from './output.js';

/** After SIGTERM on timeout, the process group has this long before SIGKILL. */
export const KILL_GRACE_MS = 1000;
/**
 * After the script exits, how long its output pipes may stay open. A script
 * that starts a daemon without redirecting its output leaves the pipe open
 * forever; the run must still end (and the daemon is left running: failover
 * start scripts start services on purpose).
 */
export const OUTPUT_DRAIN_MS = 1000;

export interface ScriptOptions {
  run: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input: string;
  timeoutMs: number;
  outputLimitBytes: number;
  /** The exit code that means success; absent: 0. */
  expectedExit?: number;
}

export interface ScriptResult {
  status: 'ok' | 'failed' | 'timeout';
  exitCode: number | null;
  signal: string | null;
  /** Why the script could not be run (spawn error), else null. */
  error: string | null;
  stdout: string;
  stderr: string;
}

export interface ScriptRun {
  readonly result: Promise<ScriptResult>;
  /** SIGKILL the script's whole process group now (shutdown). */
  kill(): void;
}

/**
 * Runs one script in its own process group (so a timeout reaches its
 * children too). Never throws and never rejects: every failure is a result.
 */
export function runScript(options: ScriptOptions): ScriptRun {
  const stdout = new OutputCapture(options.outputLimitBytes);
  const stderr = new OutputCapture(options.outputLimitBytes);
  let child: ChildProcess;
  try {
    child = spawn(options.run, [...options.args], {
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    // Synchronous spawn failures: bad arguments, e.g. a NUL byte in an env value.
    const result: ScriptResult = { status: 'failed', exitCode: null, signal: null, error: message(err), stdout: '', stderr: '' };
    return { result: Promise.resolve(result), kill: () => {} };
  }

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  const result = new Promise<ScriptResult>((resolve) => {
    let settled = false;
    let exited = false;
    let timedOut = false;
    let exitCode: number | null = null;
    let signal: string | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    const settle = (error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const status = error !== null ? 'failed' : timedOut ? 'timeout' : exitCode === (options.expectedExit ?? 0) ? 'ok' : 'failed';
      resolve({ status, exitCode, signal, error, stdout: stdout.text(), stderr: stderr.text() });
    };

    const timeoutTimer = setTimeout(() => {
      if (exited) return; // only output pipes held open by leftovers remain; the drain timer ends the run
      timedOut = true;
      killGroup('SIGTERM');
      // Unref'd: it must not hold the daemon open, and must fire even after the run settled,
      // for group members that ignore SIGTERM.
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    }, options.timeoutMs);

    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      // Without a pid the script never started (ENOENT, EACCES); later errors come from
      // signalling, and 'exit'/'close' still follow.
      if (child.pid === undefined) settle(message(err));
    });
    child.on('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      signal = sig;
      drainTimer = setTimeout(() => settle(null), OUTPUT_DRAIN_MS);
    });
    child.on('close', () => {
      if (exited) settle(null);
    });

    // A script that does not read stdin closes the pipe: EPIPE is not an error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input);
  });

  return { result, kill: () => killGroup('SIGKILL') };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

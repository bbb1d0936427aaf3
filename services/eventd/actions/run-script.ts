import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { groupHasLiveMember } from '../system/process-groups.js';
import type { RunCgroup } from './cgroup.js';
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
  /** Run as this user and group (actions.user); the daemon's own when absent. */
  uid?: number;
  gid?: number;
  /**
   * Leave what the script started running after it exits. Default true here
   * (the SDK's callers start services on purpose); the action dispatcher
   * passes false unless the action says `detach: true`.
   */
  detach?: boolean;
  /** The run's own cgroup (cgroup.ts), entered before exec; absent: the process group only. */
  cgroup?: RunCgroup;
  /** The script's process group exists (pid = pgid) / is gone or let go: for the orphan record. */
  onGroupStarted?: (pgid: number) => void;
  onGroupEnded?: (pgid: number) => void;
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

/** How often the leftovers of an exited script are checked for while they are being killed. */
const LEFTOVER_POLL_MS = 20;

/**
 * Runs one script in its own process group (so a timeout reaches its
 * children too) and, when given one, its own cgroup. Unless `detach`, what the
 * script leaves running when it exits is killed (SIGTERM, then SIGKILL after
 * KILL_GRACE_MS) before the run ends, so the next run of the same
 * subscription never overlaps it. Never throws and never rejects: every
 * failure is a result.
 */
export function runScript(options: ScriptOptions): ScriptRun {
  const stdout = new OutputCapture(options.outputLimitBytes);
  const stderr = new OutputCapture(options.outputLimitBytes);
  const detach = options.detach ?? true;
  const cgroup = options.cgroup;
  let child: ChildProcess;
  try {
    // In a cgroup: a shell enters it and execs the script, so the script's first instruction already runs inside.
    const [command, args] = cgroup === undefined
      ? [options.run, [...options.args]]
      : ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', join(cgroup.path, 'cgroup.procs'), options.run, ...options.args]];
    child = spawn(command, args, {
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
  } catch (err) {
    // Synchronous spawn failures: bad arguments, e.g. a NUL byte in an env value.
    cgroup?.killAndRemove();
    const result: ScriptResult = { status: 'failed', exitCode: null, signal: null, error: message(err), stdout: '', stderr: '' };
    return { result: Promise.resolve(result), kill: () => {} };
  }
  const pgid = child.pid;
  if (pgid !== undefined) options.onGroupStarted?.(pgid);

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
    if (signal === 'SIGKILL') cgroup?.killAndRemove();
  };
  const groupAlive = (): boolean => {
    if (pgid === undefined) return false;
    try {
      process.kill(-pgid, 0);
    } catch {
      return cgroup?.populated() ?? false;
    }
    // The group answers while it has zombies too (an init that never reaps): only running members count.
    return groupHasLiveMember(pgid) || (cgroup?.populated() ?? false);
  };
  /** After the script exited: end what it left behind, unless detached. */
  const endLeftovers = async (): Promise<void> => {
    if (!detach && groupAlive()) {
      killGroup('SIGTERM');
      if (!(await until(() => !groupAlive(), KILL_GRACE_MS))) {
        killGroup('SIGKILL');
        await until(() => !groupAlive(), KILL_GRACE_MS);
      }
    }
    // Detached leftovers stay in the (then kept) cgroup's place: only an empty cgroup is removed.
    if (cgroup !== undefined && !detach) await until(() => cgroup.killAndRemove(), KILL_GRACE_MS);
    if (pgid !== undefined) options.onGroupEnded?.(pgid);
  };

  const result = new Promise<ScriptResult>((resolve) => {
    let settled = false;
    let exited = false;
    let timedOut = false;
    let exitCode: number | null = null;
    let signal: string | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    let closed = false;
    let leftoversDone = false;
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
      if (child.pid === undefined) {
        cgroup?.killAndRemove();
        settle(message(err));
      }
    });
    child.on('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      signal = sig;
      void endLeftovers().then(() => {
        leftoversDone = true;
        if (closed) settle(null);
        else drainTimer = setTimeout(() => settle(null), OUTPUT_DRAIN_MS);
      });
    });
    child.on('close', () => {
      closed = true;
      if (exited && leftoversDone) settle(null);
    });

    // A script that does not read stdin closes the pipe: EPIPE is not an error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input);
  });

  return { result, kill: () => killGroup('SIGKILL') };
}

/** Polls `done` until it holds (true) or `ms` pass (false). */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, LEFTOVER_POLL_MS));
  }
  return true;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Every core busy: `stress -c N` (Debian `stress`, installed when missing),
// else N busy-loop Node processes. Each stops by itself a minute after the
// time asked, should the benchmark die without cleaning up.
import { spawn, type ChildProcess } from 'node:child_process';
import { onCleanup } from './cleanup.js';
import { ensureCommand } from './system.js';

export interface CpuLoad {
  how: string;
  stop(): void;
}

export function startCpuLoad(cores: number, seconds: number): CpuLoad {
  const limit = Math.ceil(seconds) + 60;
  const missing = ensureCommand('stress', 'stress');
  let children: ChildProcess[];
  let how: string;
  if (missing === undefined) {
    // Its own process group, so its workers go with it.
    children = [spawn('stress', ['-c', String(cores), '--timeout', `${limit}s`], { detached: true, stdio: 'ignore' })];
    how = `stress -c ${cores}`;
  } else {
    const loop = `const end = Date.now() + ${limit * 1000}; while (Date.now() < end) {}`;
    children = Array.from({ length: cores }, () => spawn(process.execPath, ['-e', loop], { detached: true, stdio: 'ignore' }));
    how = `${cores} busy-loop processes (${missing})`;
  }
  const stop = () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  const unregister = onCleanup(stop);
  return { how, stop: () => { stop(); unregister(); } };
}

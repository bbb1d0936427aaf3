// A real "disk full": a small tmpfs mounted for one test, and a file written
// into it until the kernel says ENOSPC. Needs root (mount); callers skip with
// the reason when it is not permitted.
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { defer, type Hooks } from './cleanup.js';
import { run } from './netns.js';

/**
 * Mounts a tmpfs of `sizeKiB` on `dir` (created), unmounted on `t`'s cleanup
 * stack, so after everything set up later (a daemon using it) has stopped.
 * Returns why it cannot be mounted here, or undefined once it is mounted.
 */
export function mountTmpfs(t: Hooks, dir: string, sizeKiB: number): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  const mounted = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  if (mounted.status !== 0) return `mount -t tmpfs is not permitted here: ${mounted.stderr.trim()}`;
  defer(t, () => {
    const unmounted = run('umount', [dir]);
    // Busy (a process we did not start still holds it): detach it, it goes when released.
    if (unmounted.status !== 0 && run('umount', ['-l', dir]).status !== 0) throw new Error(`umount ${dir}: ${unmounted.stderr.trim()}`);
  }, `umount ${dir}`);
  return undefined;
}

/** Writes `dir`/name until ENOSPC (page-sized writes, so nothing is left); returns the file and how much it took. */
export function fillUp(dir: string, name = 'filler'): { file: string; bytes: number } {
  const file = join(dir, name);
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 0x5a);
  let bytes = 0;
  try {
    for (;;) {
      try {
        bytes += writeSync(fd, page);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { file, bytes };
}

/** Frees what `fillUp` took. */
export function freeUp(file: string): void {
  rmSync(file, { force: true });
}

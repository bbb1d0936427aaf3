import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Replaces a file atomically, as the kernel's proc files never show a half-written state. */
export function writeAtomic(file: string, text: string): void {
  writeFileSync(file + '.tmp', text);
  renameSync(file + '.tmp', file);
}

/** Writes a proc root holding one swap device of 1 GiB at `percent` used. */
export function setSwap(procRoot: string, percent: number): void {
  const sizeKiB = 1_048_576;
  const usedKiB = Math.round((sizeKiB * percent) / 100);
  mkdirSync(procRoot, { recursive: true });
  writeAtomic(join(procRoot, 'swaps'), `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda2                               partition\t${sizeKiB}\t\t${usedKiB}\t\t-2\n`);
  writeAtomic(join(procRoot, 'meminfo'), `MemTotal:       16384000 kB\nMemFree:         8000000 kB\nSwapTotal:       ${sizeKiB} kB\nSwapFree:        ${sizeKiB - usedKiB} kB\n`);
}

/** True once the process is gone, or dead but not reaped yet (a zombie: PID 1 in a container may never reap it). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

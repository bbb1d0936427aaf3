// Process groups as /proc shows them. kill(-pgid, 0) answers while a group
// has zombies too, and an init that never reaps (PID 1 in some containers)
// keeps them forever, so "is anything of this group still running" reads
// each process's state.
import { readdirSync, readFileSync } from 'node:fs';

/** Whether a process that is not a zombie has process group `pgid` (field 5 of /proc/<pid>/stat). */
export function groupHasLiveMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(-pgid, 0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}


/**
 * Blocks until none of `pgids` has a running member, at most `ms`; true if
 * they all went. Synchronous on purpose: called once at start, after a crash,
 * before anything that must not overlap them is started.
 */
export function waitGroupsGone(pgids: readonly number[], ms: number): boolean {
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (pgids.every((pgid) => !groupHasLiveMember(pgid))) return true;
    if (Date.now() >= deadline) return false;
    Atomics.wait(pause, 0, 0, 10);
  }
}

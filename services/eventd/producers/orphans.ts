// Producer processes outliving a daemon that was killed -9: they run in their
// own process groups (so a timeout reaches their children), which also means
// nothing kills them when the daemon dies. The daemon keeps a list of the
// groups it started in the data folder and, at the next start, kills those
// still running, checking each process's start time so a reused pid is
// never hit.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const processListFile = 'producer-processes.json';
/** The same record for action scripts (actions/dispatcher.ts). */
export const actionProcessListFile = 'action-processes.json';

interface Entry {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: the process's start, in clock ticks since boot. */
  start: string;
}

/** Start time of a live process, or undefined when there is none. */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command is in parentheses and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export class ProducerProcesses {
  private readonly live = new Map<number, Entry>();
  private readonly file: string;

  constructor(dataDir: string, fileName = processListFile) {
    this.file = join(dataDir, fileName);
  }

  /** Kills the groups a previous run of this daemon left behind; returns how many. */
  reapOrphans(): number {
    return this.reapOrphanGroups().length;
  }

  /** The same, returning the groups signalled (SIGKILL is sent, not yet done: see waitGroupsGone). */
  reapOrphanGroups(): number[] {
    let entries: Entry[];
    try {
      entries = JSON.parse(readFileSync(this.file, 'utf8')) as Entry[];
    } catch {
      return [];
    }
    const killed: number[] = [];
    for (const entry of entries) {
      if (startOf(entry.pid) !== entry.start) continue;
      try {
        process.kill(-entry.pid, 'SIGKILL');
        killed.push(entry.pid);
      } catch {
        // Gone meanwhile.
      }
    }
    this.save();
    return killed;
  }

  spawned(pid: number): void {
    const start = startOf(pid);
    if (start === undefined) return;
    this.live.set(pid, { pid, start });
    this.save();
  }

  exited(pid: number): void {
    if (this.live.delete(pid)) this.save();
  }

  private save(): void {
    try {
      writeFileSync(this.file + '.tmp', JSON.stringify([...this.live.values()]));
      renameSync(this.file + '.tmp', this.file);
    } catch {
      // A read-only or missing data folder: orphans are then not reaped, nothing else changes.
    }
  }
}

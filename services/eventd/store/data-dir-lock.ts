// One daemon per data folder. Two daemons on one folder both sample, both
// evaluate and both run every script: each crossing twice. The lock is an
// SQLite database of its own (eventd.lock) held in exclusive locking mode:
// SQLite takes a POSIX lock on it (checked between connections of one process
// too) that the kernel drops when the holder dies, even by kill -9, so there is
// no stale lock to clean and no helper process to keep alive. The main store
// is not locked that way, so tools (and tests) can still read eventd.db while
// the daemon runs. The holder's pid sits beside it in eventd.pid, for the
// message only: the lock, not the file, decides.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EventdError } from '../errors.js';

export const lockFileName = 'eventd.lock';
export const pidFileName = 'eventd.pid';

export class DataDirLock {
  private constructor(private readonly db: Database.Database) {}

  /** Takes the folder's lock or throws EVENTD_ERR_DATA_DIR_IN_USE naming the folder and the holder's pid. */
  static acquire(dataDir: string): DataDirLock {
    const db = new Database(join(dataDir, lockFileName), { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; in this mode it is kept until close.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder; COMMIT');
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      const holder = holderPid(dataDir);
      throw new EventdError(
        'EVENTD_ERR_DATA_DIR_IN_USE',
        `data folder ${dataDir} is in use by another eventd${holder === undefined ? '' : ` (pid ${holder})`}: one daemon per data folder`,
        { dataDir, ...(holder === undefined ? {} : { pid: holder }) },
      );
    }
    writeFileSync(join(dataDir, pidFileName), `${process.pid}\n`);
    return new DataDirLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}

function holderPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, pidFileName), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

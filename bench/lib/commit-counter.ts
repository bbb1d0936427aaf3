// Counts the commits a SQLite connection makes: top-level transactions and
// writes outside any transaction (each its own commit). A bench figure that
// the machine's load does not move, unlike deliveries per second.
import type { Db } from '../../services/eventd/store/db.js';

export interface CommitCounter {
  readonly count: number;
  stop(): void;
}

/** Wraps `db`'s own transaction() and its statements' run(); stop() puts them back. */
export function countCommits(db: Db): CommitCounter {
  let count = 0;
  const transaction = db.transaction.bind(db);
  const prepare = db.prepare.bind(db);
  db.transaction = ((work: (...args: unknown[]) => unknown) => {
    const wrapped = transaction(work);
    const counted = (...args: unknown[]): unknown => {
      if (!db.inTransaction) count++;
      return wrapped(...args);
    };
    return Object.assign(counted, { deferred: wrapped.deferred, immediate: wrapped.immediate, exclusive: wrapped.exclusive, default: wrapped.default });
  }) as Db['transaction'];
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (statement.reader) return statement;
    const run = statement.run.bind(statement);
    statement.run = (...params: unknown[]) => {
      if (!db.inTransaction) count++;
      return run(...params);
    };
    return statement;
  }) as Db['prepare'];
  return {
    get count() { return count; },
    stop() {
      db.transaction = transaction;
      db.prepare = prepare;
    },
  };
}

// Start-up failures a user can fix, each as one line naming the path or the
// port (main.ts prints EventdErrors without a stack and exits 2).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventdError } from './errors.js';
import { Store } from './store/index.js';

/** Creates the data folder if needed and checks the daemon may write in it. */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new EventdError('EVENTD_ERR_STARTUP', `data folder ${dataDir} is not writable: ${reason(error)}`, { path: dataDir });
  }
}

/** Opens the store; a read-only or unopenable database is named, not thrown as a stack. */
export function openStore(dataDir: string): Store {
  let store: Store | undefined;
  try {
    store = Store.open(dataDir);
    // A file the daemon may read but not write opens read-only without a word; the first write would
    // fail much later, as a stack. Write now: the start time, and the proof.
    store.meta.set('startedAt', new Date().toISOString());
    return store;
  } catch (error) {
    store?.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      const file = join(dataDir, 'eventd.db');
      throw new EventdError('EVENTD_ERR_STARTUP', `database ${file}: ${reason(error)} (${code}); check the file's owner and mode, and the folder's`, { path: file, sqlite: code });
    }
    throw error;
  }
}

export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return new EventdError('EVENTD_ERR_STARTUP', `api port ${port} on ${host} is already in use (another eventd?); set api.port or --port`, { host, port });
  if (code === 'EACCES') return new EventdError('EVENTD_ERR_STARTUP', `api port ${port} on ${host}: permission denied (ports below 1024 need root)`, { host, port });
  if (code === 'EADDRNOTAVAIL') return new EventdError('EVENTD_ERR_STARTUP', `api.host ${host} is not an address of this machine`, { host, port });
  return error;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

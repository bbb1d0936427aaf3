// The cluster's normal work during a failover soak: every daemon raises a
// declared event (class Soak) every `everyMs`, FIFO and agreed in turn, so the
// log, the agreed order, SQLite and the frames between the daemons are busy
// while the machine is loaded, as in a cluster that does more than hold an
// address. Raised with curl in the daemon's namespace (its API listens there).
import { authHeader } from '../../test/helpers/api-token.js';
import { runAsync } from '../../test/helpers/netns.js';

/** The class the soak raises; every daemon's config declares it (events.classes). */
export const soakClass = 'Soak';
export const soakEventsConfig = { classes: { [soakClass]: { description: 'failover soak load', attributes: { n: { type: 'number' } } } } };

export interface SoakTarget {
  name: string;
  netns: string;
  configFile: string;
  apiPort: number;
}

export interface SoakWork {
  stop(): Promise<{ raised: number; failed: number }>;
}

export function startSoakWork(targets: readonly SoakTarget[], everyMs: number): SoakWork {
  let raised = 0;
  let failed = 0;
  let stopped = false;
  const loops = targets.map(async (target) => {
    const auth = `authorization: ${authHeader(target.configFile).authorization}`;
    for (let n = 0; !stopped; n++) {
      const started = Date.now();
      const body = JSON.stringify({ class: soakClass, resource: target.name, attrs: { n }, order: n % 2 === 0 ? 'fifo' : 'agreed' });
      const curl = ['curl', '-sS', '-f', '-m', '3', '-H', auth, '-H', 'content-type: application/json', '-d', body, `http://127.0.0.1:${target.apiPort}/v1/events`];
      const result = await runAsync('ip', ['netns', 'exec', target.netns, ...curl], 5_000);
      if (result.status === 0) raised++;
      else failed++;
      const rest = everyMs - (Date.now() - started);
      if (rest > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return { raised, failed };
    },
  };
}

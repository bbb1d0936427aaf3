// The one append path as the daemon wires it, for in-process tests: a local
// recorder over `store`, the feed notified after each commit. A failed
// transaction is recorded in `fatal` (the daemon would exit) and rethrown.
import { EventFeed } from '../../services/eventd/event-feed.js';
import { EventLog, LocalRecorder } from '../../services/eventd/log/index.js';
import type { Metrics } from '../../services/eventd/metrics.js';
import type { EventLogOptions } from '../../services/eventd/log/index.js';
import type { Store } from '../../services/eventd/store/index.js';

export function localEventLog(store: Store, metrics: Metrics, node = 'n1', options: { feed?: EventFeed; onActionsQueued?: () => void; plan?: EventLogOptions['plan']; observe?: EventLogOptions['observe'] } = {}) {
  const feed = options.feed ?? new EventFeed();
  const fatal: { error: unknown; what: string }[] = [];
  const log = new EventLog({ store, metrics, feed, onActionsQueued: options.onActionsQueued ?? (() => {}), fatal: (error, what) => void fatal.push({ error, what }), ...(options.plan === undefined ? {} : { plan: options.plan }), ...(options.observe === undefined ? {} : { observe: options.observe }) });
  return { log, recorder: new LocalRecorder(store, log, node), feed, fatal };
}

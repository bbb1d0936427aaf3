import { localEventLog } from './event-log.js';
import { buildConfig } from '../../services/eventd/config.js';
import type { ApiContext } from '../../services/eventd/api/context.js';
import { hostCheck } from '../../services/eventd/api/host-check.js';
import { ConsumerRouter } from '../../services/eventd/api/routes/consumers.js';
import { buildApi } from '../../services/eventd/api/server.js';
import { Evaluator } from '../../services/eventd/evaluation/evaluator.js';
import { EventFeed } from '../../services/eventd/event-feed.js';
import { silentLogger } from '../../services/eventd/logger.js';
import { createMetrics } from '../../services/eventd/metrics.js';
import { ResponseService } from '../../services/eventd/responses/service.js';
import { SilenceService } from '../../services/eventd/responses/silences.js';
import { SampleHistory } from '../../services/eventd/sample-history.js';
import { Store } from '../../services/eventd/store/index.js';
import { SubscriptionRegistry } from '../../services/eventd/subscriptions/registry.js';
import { SubscriptionService } from '../../services/eventd/subscriptions/service.js';
import type { ProducerManifest } from '../../services/eventd/types.js';

export const pagingSpaceManifest: ProducerManifest = {
  class: 'PagingSpace',
  periodMs: 1000,
  attributes: {
    totalKiB: { type: 'number', unit: 'KiB' },
    usedKiB: { type: 'number', unit: 'KiB' },
    freeKiB: { type: 'number', unit: 'KiB' },
    percentUsed: { type: 'number', unit: '%' },
    configured: { type: 'boolean' },
  },
};

/**
 * The daemon's API over a real SQLite store and the real subscription
 * service and evaluator, with one known class and no producer processes:
 * for `inject` tests of the HTTP surface.
 */
export async function apiUnderTest(dataDir: string, rawConfig: Record<string, unknown> = {}) {
  const config = buildConfig({ node: 'n1', dataDir, ...rawConfig });
  const logger = silentLogger();
  const store = Store.open(dataDir);
  const metrics = createMetrics();
  const feed = new EventFeed();
  const awake = new Set<string>();
  const registry = new SubscriptionRegistry({ onClassNeeded: (c) => awake.add(c), onClassIdle: (c) => awake.delete(c) });
  const responses = new ResponseService({
    node: 'n1', store, logger,
    usedBy: (name) => registry.all().filter((c) => c.subscription.responses?.includes(name)).map((c) => c.subscription.name),
  });
  const silences = new SilenceService({ node: 'n1', store, logger });
  const { log, recorder } = localEventLog(store, metrics, 'n1', { feed, plan: { response: (name) => responses.lookup(name) } });
  const evaluator = new Evaluator({ node: 'n1', store, registry, metrics, logger, log, recorder, silencing: (draft) => silences.silencing(draft), onFault: (id) => subscriptions.suspend(id) });
  const manifests = [pagingSpaceManifest];
  let refusedCount = 0;
  const subscriptions = new SubscriptionService({
    node: 'n1', store, registry, logger,
    manifest: (name) => manifests.find((m) => m.class === name),
    knownClasses: () => manifests.map((m) => m.class),
    onDeleted: (id) => evaluator.forget(id),
    onReplicatedRefused: () => void refusedCount++,
    responseExists: (name) => responses.lookup(name) !== undefined,
    health: evaluator.health,
    latestSamples: (className) => evaluator.latestSamples(className),
  });
  const context: ApiContext = {
    config,
    auth: { tokens: config.api.tokens.length > 0 ? config.api.tokens : 'none', hosts: hostCheck(config.api.host, config.api.allowedHosts) },
    version: 'test', startedAt: Date.now(), store, subscriptions, responses, silences, evaluator, feed, metrics, history: new SampleHistory(),
    producers: { manifests: () => manifests, awake: () => [...awake] },
    consumerRoutes: new ConsumerRouter(),
  };
  const app = await buildApi(context, logger);
  return { app, context, awake, evaluator, registry, refused: () => refusedCount, close: async () => { await app.close(); store.close(); } };
}

// What the daemon lends its consumers beyond the event log: raising their own
// events (through the same recorder as the evaluator, so in a cluster they get
// a seq and HLC from the core) and a read of the cluster view.
import type { ClusterNode } from '../cluster-edge/cluster-node.js';
import type { ClusterSettings } from '../config-cluster.js';
import type { Appended, EventRecorder } from '../evaluation/recorder.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import type { Subscription } from '../types.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { ConsumerContext, ConsumerSubscriptionSpec } from './contract.js';

export interface ConsumerServicesOptions {
  node: string;
  store: Store;
  recorder: EventRecorder;
  cluster: ClusterNode | undefined;
  settings: ClusterSettings | undefined;
  metrics: Metrics;
  publish: (appended: Appended[]) => void;
  /** The subscription service, once made (it is made after the consumers start). */
  subscriptions: () => SubscriptionService | undefined;
}

export function consumerServices(options: ConsumerServicesOptions): Pick<ConsumerContext, 'raise' | 'cluster' | 'ensureSubscription'> {
  const { node, store, recorder, cluster, settings, metrics, publish } = options;
  return {
    ensureSubscription: (spec) => {
      const service = options.subscriptions();
      if (!service) throw new Error('subscriptions are not loaded yet');
      const existing = service.list().find((subscription) => subscription.name === spec.name);
      if (existing && sameSpec(existing, spec)) return existing.id;
      if (existing) service.delete(existing.id);
      return service.create({ ...spec }).id;
    },
    raise: (draft, { reach, order }) => {
      // The consumer's reports belong to no user subscription: a stand-in carries scope and order, and owes no action.
      const owner = { id: draft.subscription, name: draft.subscriptionName, class: draft.class, expr: draft.expr, scope: reach, order, actions: [], node } as unknown as Subscription;
      const { id, appended } = store.transaction(() => recorder.record(draft, owner));
      for (const { event } of appended) metrics.events.inc({ type: event.type, class: event.class });
      if (appended.length > 0) publish(appended);
      return id;
    },
    ...(cluster && settings
      ? {
          cluster: {
            view: () => cluster.view(),
            reachable: () =>
              cluster.members()
                .filter((member) => member.state === 'self' || (member.lastHeardMs !== null && member.lastHeardMs < settings.suspectAfterMs))
                .map((member) => member.name),
            // cluster.peers lists every node, this one included (README); a longer view wins if it does not.
            get size() {
              return Math.max(settings.peers.length, cluster.view().length);
            },
            suspectAfterMs: settings.suspectAfterMs,
          },
        }
      : {}),
  };
}

function sameSpec(subscription: Subscription, spec: ConsumerSubscriptionSpec): boolean {
  return subscription.class === spec.class && subscription.expr === spec.expr && subscription.rearm === spec.rearm
    && subscription.where === spec.where && subscription.for === spec.for && (subscription.scope ?? 'local') === 'local';
}

// What the daemon lends its consumers beyond the event log: raising their own
// events (through the same recorder as the evaluator, so in a cluster they get
// a seq and HLC from the core) and a read of the cluster view.
import { leaseAgeMs } from '../cluster/core/lease.js';
import type { ClusterNode } from '../cluster/edge/cluster-node.js';
import type { ClusterSettings } from '../cluster/settings.js';
import type { EventRecorder } from '../log/append.js';
import type { EventLog } from '../log/event-log.js';
import type { Subscription } from '../types.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { ConsumerContext, ConsumerSubscriptionSpec } from './contract.js';

export interface ConsumerServicesOptions {
  node: string;
  log: EventLog;
  recorder: EventRecorder;
  cluster: ClusterNode | undefined;
  settings: ClusterSettings | undefined;
  subscriptions: SubscriptionService;
}

export function consumerServices(options: ConsumerServicesOptions): Pick<ConsumerContext, 'raise' | 'cluster' | 'ensureSubscription'> {
  const { log, recorder, cluster, settings } = options;
  return {
    ensureSubscription: (spec) => {
      const service = options.subscriptions;
      const existing = service.list().find((subscription) => subscription.name === spec.name);
      if (existing && sameSpec(existing, spec)) return existing.id;
      if (existing) service.delete(existing.id);
      return service.create({ ...spec }).id;
    },
    raise: (draft, { reach, order }) => {
      // The consumer's reports belong to no user subscription: the owner carries scope and order, and owes no action.
      return log.transaction(`event raised by a consumer (${draft.class})`, () => recorder.record(draft, { id: draft.subscription, scope: reach, order }));
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
            leaseAgeMs: () => leaseAgeMs(cluster.leaseAges(), Math.max(settings.peers.length, cluster.view().length)),
            silentForMs: (node) => cluster.silentForMs(node),
          },
        }
      : {}),
  };
}

function sameSpec(subscription: Subscription, spec: ConsumerSubscriptionSpec): boolean {
  return subscription.class === spec.class && subscription.expr === spec.expr && subscription.rearm === spec.rearm
    && subscription.where === spec.where && subscription.for === spec.for && subscription.scope === 'local';
}

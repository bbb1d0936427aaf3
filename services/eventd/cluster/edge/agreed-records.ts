// What the agreed order adds to the edge: the configured node set a majority
// is counted over, and the Cluster event each primary view becomes.
import { createHash } from 'node:crypto';
import type { CoreOutput } from '../core/io.js';
import type { ClusterSettings } from '../settings.js';
import type { EventRecord } from '../../types.js';

/** The configured node set: cluster.peers with this node added when absent; agreed positions need a majority of it. */
export function configuredSet(settings: ClusterSettings): { configuredNodes: number; configuredHash: string } {
  const self = `${settings.bind.host}:${settings.bind.port}`;
  const nodes = [...new Set([...settings.peers, self])].sort();
  return { configuredNodes: nodes.length, configuredHash: createHash('sha256').update(nodes.join('\n')).digest('hex').slice(0, 16) };
}

/** The pseudo-subscription of the primary component's views: class Cluster, resource = the cluster name. */
export const clusterViewSubscription = { id: 'cluster-view', name: 'cluster-view' } as const;

export function clusterViewRecord(cluster: string, view: Extract<CoreOutput, { type: 'clusterView' }>): EventRecord {
  const wall = Number(view.hlc.split('.')[0]);
  return {
    id: `@cluster:${view.position}`,
    origin: '@cluster',
    seq: view.position,
    hlc: view.hlc,
    position: view.position,
    type: 'event',
    subscription: clusterViewSubscription.id,
    subscriptionName: clusterViewSubscription.name,
    class: 'Cluster',
    resource: cluster,
    node: view.epoch.leader,
    expr: '',
    attrs: { epoch: view.epoch.n, members: view.members.join(','), joined: view.joined.join(','), left: view.left.join(',') },
    time: new Date(Number.isFinite(wall) ? wall : 0).toISOString(),
  };
}


// Cluster core settings: defaults in one place, validated once, frozen.

import { EventdError } from '../../errors.js';

export interface ClusterConfig {
  /** Heartbeat period. The edge must call `tick` at least this often (a quarter of it is a good rate). */
  heartbeatMs: number;
  /**
   * Silence after which a peer is reported unreachable. 600 ms = 6 heartbeats,
   * and every heartbeat is answered at once (an ack frame), so a live peer is
   * heard twice per heartbeat: a kill -9 is seen by a majority within
   * suspectAfterMs + one tick + one network hop, while losing five heartbeats
   * and their acks in a row does not make anyone look dead, and a node whose
   * own loop runs late accuses later still (local health, core.ts). The
   * heartbeat is short for the failover leases' sake (their acks ride on it),
   * not for detection: suspicion is what a lag must outlast.
   */
  suspectAfterMs: number;
  /** Addresses (edge-defined) a node with no known peer sends `join` to. */
  seeds: readonly string[];
  /** Most events in one `events` frame: a pull asks for at most this many, and its answer carries them (the edge may split a frame into several datagrams). */
  maxEventsPerFrame: number;
  /** A new event is pushed to a peer only while it is at most this many events behind (core.ts `pushTo`); past that it pulls. */
  pushWindowEvents: number;
  /** A pull with no answer for this long may be asked again, of any peer. */
  pullTimeoutMs: number;
  /**
   * How long a node that started with an empty store waits for its peers to tell it its last
   * incarnation and seq (and then for its own events to come back) before it goes on without.
   */
  identityWaitMs: number;
  /**
   * How many nodes the cluster is configured with (cluster.peers and self): agreed positions need
   * a majority of them (sequencer.ts). 1 for a lone node.
   */
  configuredNodes: number;
  /** Hash of the configured node set, carried in heartbeats so two daemons configured differently say so. */
  configuredHash: string;
}

export const clusterDefaults: Readonly<ClusterConfig> = Object.freeze({
  heartbeatMs: 100,
  suspectAfterMs: 600,
  seeds: Object.freeze([]) as readonly string[],
  maxEventsPerFrame: 64,
  pushWindowEvents: 8192,
  pullTimeoutMs: 400,
  identityWaitMs: 10_000,
  configuredNodes: 1,
  configuredHash: '',
});

const keys = Object.keys(clusterDefaults) as (keyof ClusterConfig)[];

function bad(message: string, details: Record<string, unknown>): never {
  throw new EventdError('EVENTD_ERR_BAD_CONFIG', message, details);
}

/** Defaults applied, unknown keys and nonsense values rejected, result frozen. */
export function resolveClusterConfig(input: Partial<ClusterConfig> = {}): Readonly<ClusterConfig> {
  for (const key of Object.keys(input)) {
    if (!keys.includes(key as keyof ClusterConfig)) bad(`unknown cluster setting "${key}"`, { key });
  }
  const config: ClusterConfig = { ...clusterDefaults, ...input, seeds: [...(input.seeds ?? clusterDefaults.seeds)] };
  for (const key of ['heartbeatMs', 'suspectAfterMs', 'maxEventsPerFrame', 'pushWindowEvents', 'pullTimeoutMs', 'identityWaitMs', 'configuredNodes'] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] <= 0) bad(`cluster.${key} must be a positive integer`, { key, value: config[key] });
  }
  if (config.suspectAfterMs < 2 * config.heartbeatMs) {
    bad('cluster.suspectAfterMs must be at least two heartbeats', { suspectAfterMs: config.suspectAfterMs, heartbeatMs: config.heartbeatMs });
  }
  if (!config.seeds.every((s) => typeof s === 'string' && s.length > 0)) bad('cluster.seeds must be non-empty strings', { seeds: config.seeds });
  return Object.freeze({ ...config, seeds: Object.freeze([...config.seeds]) });
}

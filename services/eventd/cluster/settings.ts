// The `cluster` section of the config: defaults, checks beyond the schema,
// and the frozen shape the cluster edge reads. No `cluster` key: one node.
import { EventdError } from '../errors.js';
import { clusterDefaults } from './core/config.js';
import { Keyring } from './edge/keyring.js';

export interface ClusterSettings {
  readonly name: string;
  readonly bind: { readonly host: string; readonly port: number };
  /** Seeds, "host:port". */
  readonly peers: readonly string[];
  /** Base64, 32 bytes each; the first seals, all open. */
  readonly keys: readonly string[];
  readonly heartbeatMs: number;
  readonly suspectAfterMs: number;
  /** A node with an empty store waits this long for its peers' answers (core/identity-recovery.ts). */
  readonly identityWaitMs: number;
}

export type RawCluster = {
  name: string;
  bind?: { host?: string; port?: number };
  peers?: string[];
  keys: string[];
  heartbeatMs?: number;
  suspectAfterMs?: number;
  identityWaitMs?: number;
};

/** The config's defaults; the protocol's own (heartbeat, suspicion) are the core's, kept in core/config.ts. */
export const clusterConfigDefaults = {
  bindHost: '127.0.0.1',
  bindPort: 7946,
  heartbeatMs: clusterDefaults.heartbeatMs,
  suspectAfterMs: clusterDefaults.suspectAfterMs,
  /**
   * A pull asks for, and its answer carries, up to this many events: catch-up
   * moves a batch per round trip. The edge splits a frame too large for one
   * datagram (frame-batch.ts), so the bound is about round trips, not bytes.
   */
  maxEventsPerFrame: 4096,
  /** Flow control (core.ts `pushTo`): a peer further behind than this gets no pushes and pulls instead. */
  pushWindowEvents: clusterDefaults.pushWindowEvents,
} as const;

export function clusterSettings(raw: RawCluster, source: string): ClusterSettings {
  const bad = (key: string, message: string): never => {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: ${key}: ${message}`, { key });
  };
  try {
    new Keyring(raw.keys);
  } catch (error) {
    bad('cluster.keys', (error as Error).message.replace(/^cluster\.keys(\[\d+\])?: /, (_, index: string | undefined) => (index ? `${index} ` : '')));
  }
  raw.peers?.forEach((peer, index) => {
    const match = /^(.+):(\d{1,5})$/.exec(peer);
    if (!match || Number(match[2]) > 65535) bad(`cluster.peers[${index}]`, `"${peer}" is not host:port`);
  });
  const heartbeatMs = raw.heartbeatMs ?? clusterConfigDefaults.heartbeatMs;
  // 600 ms, and at least three heartbeats (core/config.ts): a longer heartbeat stretches the default silence with it.
  const suspectAfterMs = raw.suspectAfterMs ?? Math.max(clusterConfigDefaults.suspectAfterMs, 3 * heartbeatMs);
  if (suspectAfterMs < 2 * heartbeatMs) bad('cluster.suspectAfterMs', `must be at least two heartbeats (${2 * heartbeatMs} ms)`);
  return {
    name: raw.name,
    bind: { host: raw.bind?.host ?? clusterConfigDefaults.bindHost, port: raw.bind?.port ?? clusterConfigDefaults.bindPort },
    peers: raw.peers ?? [],
    keys: raw.keys,
    heartbeatMs,
    suspectAfterMs,
    identityWaitMs: raw.identityWaitMs ?? clusterDefaults.identityWaitMs,
  };
}

// The cluster core's public surface, for the edge (UDP/AES-GCM/SQLite) and the simulator.
export { ClusterCore } from './core.js';
export { clusterDefaults, resolveClusterConfig, type ClusterConfig } from './config.js';
export { nodeStateChanges, type CoreInput, type CoreOutput, type NodeStateChange } from './io.js';
export { parseFrame, isClusterEvent, type ClusterEvent, type Frame, type Json, type SubscriptionEntry, type Version } from './frames.js';
export { MemoryCoreStore, type CoreStore, type CoreMeta, type MemberRecord } from './store.js';
export { compareKeys, compareHlc, type AgreedKey } from './ordering.js';
export { LeaseAcks, LeaseClock, leaseAgeMs, type BeatAck } from './lease.js';

// What a simulated run leaves for the checker: per node, in output order, its
// views and deliveries (the log survives crashes, as the edge's event log does).

import type { ClusterEvent, SubscriptionEntry } from '../../services/eventd/cluster/core/index.js';

export type NodeLogEntry =
  /** The core (re)started with this view from its store. */
  | { kind: 'start'; t: number; view: string[] }
  | { kind: 'crash'; t: number }
  | { kind: 'view'; t: number; view: string[] }
  /** `position` for agreed events; `cutOffSince` when the node could hear no majority component since then (network.ts cuts). */
  | { kind: 'deliver'; t: number; event: ClusterEvent; position?: number; cutOffSince?: number; persistedBy?: number }
  /** The view entry of a primary epoch, delivered at its position (the edge's Cluster event). */
  | { kind: 'cluster'; t: number; position: number; epoch: string; members: string[]; cutOffSince?: number; persistedBy?: number };

export interface Trace {
  seed: number;
  nodes: string[];
  /** Every event an origin recorded (seq assigned and persisted), in record order. */
  recorded: { t: number; event: ClusterEvent }[];
  logs: Record<string, NodeLogEntry[]>;
  /** Nodes up at the end. */
  live: string[];
  finalViews: Record<string, string[]>;
  subscriptionWrites: { t: number; node: string; entry: SubscriptionEntry }[];
  finalSubscriptions: Record<string, SubscriptionEntry[]>;
  /** Size of the configured node set (a majority of it commits a position). */
  configured: number;
  /** The longest a frame sent before a cut may still arrive after it (network delay, stalls). */
  inFlightMs: number;
  /** Every advance of a node's committed prefix of agreed positions. */
  commits: { t: number; node: string; position: number; cutOffSince?: number }[];
  /** The attacker's replays, and how many a receiver admitted (the checker wants none). */
  replays?: { sent: number; admitted: number };
}

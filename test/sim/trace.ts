// What a simulated run leaves for the checker: per node, in output order, its
// views and deliveries (the log survives crashes, as the edge's event log does).

import type { ClusterEvent, SubscriptionEntry } from '../../services/eventd/cluster/core/index.js';

export type NodeLogEntry =
  /** The core (re)started with this view from its store. */
  | { kind: 'start'; t: number; view: string[] }
  | { kind: 'crash'; t: number }
  | { kind: 'view'; t: number; view: string[] }
  | { kind: 'deliver'; t: number; event: ClusterEvent; late: boolean };

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
  /** The attacker's replays, and how many a receiver admitted (the checker wants none). */
  replays?: { sent: number; admitted: number };
}

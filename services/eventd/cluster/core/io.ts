// What the edge feeds the core, and what the core hands back. The edge owns
// every side effect: it calls `step(input, now)` for each timer tick, each
// authenticated frame, each local event and each subscription change, then
// (after committing the step's store writes) performs the outputs in order.

import type { Order } from '../../types.js';
import type { Epoch } from './decisions.js';
import type { ClusterEvent, Frame, Json } from './frames.js';

export type CoreInput =
  /** Timer: call at least every heartbeatMs (every heartbeatMs/4 is a good rate). */
  | { type: 'tick' }
  /** A frame from a peer, already decrypted, authenticated and shape-checked (`parseFrame`). */
  | { type: 'frame'; frame: Frame }
  /** A local event to record and announce; the core assigns seq and HLC. */
  | { type: 'localEvent'; order: Order; payload: Json }
  /** A cluster-scoped (or node-list scoped) subscription created or changed on this node. */
  | { type: 'subscriptionPut'; id: string; value: Json }
  | { type: 'subscriptionDelete'; id: string };

export type CoreOutput =
  /** Send to a member, by node name (the edge maps names to addresses). */
  | { type: 'send'; to: string; frame: Frame }
  /** Send to a seed address (a joining node knows no names yet). */
  | { type: 'sendSeed'; address: string; frame: Frame }
  /** A local event was given its seq and HLC and persisted (answer the producer / API with its id). */
  | { type: 'recorded'; event: ClusterEvent }
  /** Deliver to consumers: fifo events on arrival, agreed ones at their committed `position` (1-based, dense, the same on every node). */
  | { type: 'deliver'; event: ClusterEvent; position?: number }
  /** The view entry of a primary epoch at its committed position: the edge records a `Cluster` event there. */
  | { type: 'clusterView'; position: number; epoch: Epoch; members: string[]; joined: string[]; left: string[]; hlc: string }
  /** This node's committed prefix of agreed positions reaches `position` (metrics, the simulator's checker). */
  | { type: 'committed'; position: number }
  /** A peer's heartbeat carries another hash of the configured node set (said once per peer and hash). */
  | { type: 'configuredSetDiffers'; from: string; theirs: string; ours: string }
  /** The view changed: the edge raises one `Node` event per name, resource = name, attrs.state "up" | "down". */
  | { type: 'viewChange'; view: string[]; up: string[]; down: string[] }
  /** `from` acknowledged this node's heartbeat number `beat` (lease.ts: the edge knows when it sent it). */
  | { type: 'leaseAck'; from: string; beat: number }
  /** The replicated subscription map changed (value null: deleted). */
  | { type: 'subscriptionChange'; id: string; value: Json | null }
  /**
   * Identity recovery of a node that started with an empty store (identity-recovery.ts):
   * `recovered` (peers answered: resumes at this incarnation and seq), `alone` (nobody answered:
   * a fresh incarnation, ids may collide), then `own-events-back` once its own events the peers
   * held are back, or `own-events-lost` if they did not come back in time.
   */
  | { type: 'identity'; stage: 'recovered' | 'alone' | 'own-events-back' | 'own-events-lost'; incarnation: number; seq: number; answered: string[] };

/** What a `Node` event carries for one view change entry (DESIGN.md: class Node, resource = node name). */
export interface NodeStateChange {
  class: 'Node';
  resource: string;
  attrs: { state: 'up' | 'down' };
}

/** The `Node` events the edge raises for a view change: one per node that went down, then one per node that came up. */
export function nodeStateChanges(change: Extract<CoreOutput, { type: 'viewChange' }>): NodeStateChange[] {
  return [
    ...change.down.map((resource): NodeStateChange => ({ class: 'Node', resource, attrs: { state: 'down' } })),
    ...change.up.map((resource): NodeStateChange => ({ class: 'Node', resource, attrs: { state: 'up' } })),
  ];
}

// What the failover runtime needs from its surroundings: the daemon
// (index.ts) or the simulator (test/sim/failover.ts) supplies it.
import type { EventDraft, Order } from '../../services/eventd/sdk/index.js';
import type { GroupSettings } from './settings.js';

/** How often the host should call tick(). */
export const failoverTickMs = 50;
/** Added to every takeover wait: the holder's kill of an overrunning stop happens at a tick, and clocks tick at slightly different rates. */
export const leaseMarginMs = 150;

/** A start or stop script in flight. */
export interface ScriptHandle {
  kill(): void;
}

/** What the runtime needs from its surroundings. */
export interface FailoverHost {
  readonly node: string;
  /** A witness (eventd --witness): votes on claims, runs no group, is placed nothing. */
  readonly witness?: boolean;
  /** Wall clock (event times). */
  now(): number;
  /** Monotonic ms: leases, silences and waits are measured on it. */
  mono(): number;
  /** The agreed view (this node alone on a single node). */
  view(): string[];
  /** Whether this node hears a majority of the configured nodes now (always true on a single node). */
  hasQuorum(): boolean;
  /** The configured cluster size (a claim needs votes from more than half of it). */
  size(): number;
  /** How old the acks are that this node's lease rests on (lease.ts leaseAgeMs): 0 on a single node, Infinity with too few. */
  leaseAgeMs(): number;
  /** Ms since any frame of `node` arrived; Infinity when none did. */
  silentForMs(node: string): number;
  /** Records and commits one event of this node, through the cluster; returns its id. */
  raise(draft: EventDraft, order: Order): string;
  /** Runs a group's start or stop; `done` is called once, with whether it succeeded. */
  run(group: GroupSettings, action: 'start' | 'stop', reason: string, timeoutMs: number, done: (ok: boolean, detail: string) => void): ScriptHandle;
  warn(message: string, details: Record<string, unknown>): void;
  /** The id of the local subscription watching the group's health (made on first call); throws while not possible yet. */
  monitor(group: GroupSettings): string;
  /** Runs failover.fence against `target` (EVENTD_FENCE_NODE); absent when none is configured. */
  fence?(target: string, reason: string, done: (ok: boolean, detail: string) => void): void;
  /** Announces a running group's `ip` again (gratuitous ARP); `done` once it finished. Absent: no announcements (the simulator). */
  announce?(group: GroupSettings, reason: string, done: () => void): void;
  /** Pets the watchdog device; absent when none is configured. */
  pet?(): void;
}

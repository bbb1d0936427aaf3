// Fencing of others (the fence agents' model: a power switch, a cloud API):
// with `failover.fence`, the node that won a takeover runs the fence script
// against the lost holder (EVENTD_FENCE_NODE) and starts the group only once
// it succeeded; a failing script blocks the takeover and is retried. Every
// attempt is a FailoverFence event. Without a fence script, the lease rule
// (and the watchdog) decide when a takeover may start.
import type { EventDraft, Order } from '../../services/eventd/sdk/index.js';

export const fenceClass = 'FailoverFence';
/** A failed fence is tried again after this. */
const retryMs = 1000;
/** A success holds for this long: a node fenced just now need not be fenced again for the next group. */
const freshMs = 30_000;

export interface FenceHost {
  readonly node: string;
  now(): number;
  mono(): number;
  raise(draft: EventDraft, order: Order): string;
  /** Runs the fence script against `target`; `done` once, with whether it succeeded. */
  fence(target: string, reason: string, done: (ok: boolean, detail: string) => void): void;
}

export class Fencer {
  private readonly targets = new Map<string, { running: boolean; okAt?: number; failedAt?: number }>();

  constructor(private readonly host: FenceHost) {}

  /** Whether `target` is fenced; starts (or retries) the script when it is not and none runs. */
  fenced(target: string, reason: string): boolean {
    const mono = this.host.mono();
    let state = this.targets.get(target);
    if (!state) {
      state = { running: false };
      this.targets.set(target, state);
    }
    if (state.okAt !== undefined && mono - state.okAt < freshMs) return true;
    if (state.running || (state.failedAt !== undefined && mono - state.failedAt < retryMs)) return false;
    state.running = true;
    const entry = state;
    this.host.fence(target, reason, (ok, detail) => {
      entry.running = false;
      if (ok) entry.okAt = this.host.mono();
      else entry.failedAt = this.host.mono();
      this.host.raise({
        type: ok ? 'rearm' : 'event', subscription: 'failover', subscriptionName: 'failover', class: fenceClass, resource: target, node: this.host.node,
        expr: ok ? 'fenced' : 'fence failed', attrs: { node: this.host.node, target, result: ok ? 'ok' : 'failed', detail, reason }, time: new Date(this.host.now()).toISOString(),
      }, 'fifo');
    });
    return false;
  }

  /** The node is back in the view: a new loss fences it again. */
  forget(target: string): void {
    this.targets.delete(target);
  }
}

// In memory, what the store's subscription_faults and evaluation_errors
// hold: read at start, changed only after the evaluator's batch (or the
// service's change) has committed, so memory never runs ahead of disk.
import type { ResourceErrors, SubscriptionFault } from '../store/subscription-health.js';
import type { Store } from '../store/index.js';
import type { ThresholdKey } from '../store/threshold-states.js';

export type { ResourceErrors, SubscriptionFault };

export function resourceId(key: ThresholdKey): string {
  return `${key.subscription}\u0000${key.node}\u0000${key.resource}`;
}

export class SubscriptionHealth {
  private readonly faultsById = new Map<string, SubscriptionFault>();
  private readonly errorsById = new Map<string, ResourceErrors>();
  private failingCount = 0;

  constructor(private readonly store: Store) {
    for (const fault of store.health.faults()) this.faultsById.set(fault.subscription, fault);
    for (const entry of store.health.errors()) this.errorsById.set(resourceId(entry.key), entry);
    this.countFailing();
  }

  /** Whether any resource's latest evaluation failed: the evaluator looks a resource up only then (a lookup per evaluation would cost more than a fast-path evaluation). */
  get anyFailing(): boolean {
    return this.failingCount > 0;
  }

  private countFailing(): void {
    let count = 0;
    for (const entry of this.errorsById.values()) if (entry.failing) count++;
    this.failingCount = count;
  }

  fault(subscription: string): SubscriptionFault | undefined {
    return this.faultsById.get(subscription);
  }

  /** Keyed like threshold states: subscription, node, resource. */
  resource(id: string): ResourceErrors | undefined {
    return this.errorsById.get(id);
  }

  resourceErrors(subscription: string): ResourceErrors[] {
    return [...this.errorsById.values()].filter((entry) => entry.key.subscription === subscription);
  }

  /** After the batch that wrote them committed. */
  committed(faults: Iterable<SubscriptionFault>, errors: Iterable<ResourceErrors>): void {
    for (const fault of faults) this.faultsById.set(fault.subscription, fault);
    let changed = false;
    for (const entry of errors) {
      this.errorsById.set(resourceId(entry.key), entry);
      changed = true;
    }
    if (changed) this.countFailing();
  }

  /** The subscription was changed or deleted: what went wrong before no longer applies (store and memory). */
  clear(subscription: string): void {
    this.store.health.clear(subscription);
    this.forget(subscription);
  }

  /** Memory only: the rows went with the subscription's own delete. */
  forget(subscription: string): void {
    this.faultsById.delete(subscription);
    for (const [id, entry] of this.errorsById) if (entry.key.subscription === subscription) this.errorsById.delete(id);
    this.countFailing();
  }
}

import type { CompiledSubscription } from './compiled.js';

export interface RegistryHooks {
  /** The first subscription naming the class arrived: wake its producer. */
  onClassNeeded(className: string): void;
  /** The last subscription naming the class went: let its producer sleep. */
  onClassIdle(className: string): void;
}

/** The active subscriptions, indexed by class for the evaluator. */
export class SubscriptionRegistry {
  private readonly byId = new Map<string, CompiledSubscription>();
  private readonly byClass = new Map<string, CompiledSubscription[]>();

  constructor(private readonly hooks: RegistryHooks) {}

  /** `evaluateHere`: false for a cluster subscription scoped to other nodes (known here, evaluated there). */
  add(compiled: CompiledSubscription, evaluateHere = true): void {
    const { id, class: className } = compiled.subscription;
    this.byId.set(id, compiled);
    if (!evaluateHere) return;
    const list = this.byClass.get(className) ?? [];
    list.push(compiled);
    this.byClass.set(className, list);
    if (list.length === 1) this.hooks.onClassNeeded(className);
  }

  remove(id: string): CompiledSubscription | undefined {
    const compiled = this.byId.get(id);
    if (!compiled) return undefined;
    this.byId.delete(id);
    const className = compiled.subscription.class;
    const before = this.byClass.get(className) ?? [];
    const list = before.filter((entry) => entry.subscription.id !== id);
    if (list.length === before.length) return compiled;
    if (list.length === 0) {
      this.byClass.delete(className);
      this.hooks.onClassIdle(className);
    } else {
      this.byClass.set(className, list);
    }
    return compiled;
  }

  get(id: string): CompiledSubscription | undefined {
    return this.byId.get(id);
  }

  findByName(name: string): CompiledSubscription | undefined {
    for (const compiled of this.byId.values()) if (compiled.subscription.name === name) return compiled;
    return undefined;
  }

  forClass(className: string): readonly CompiledSubscription[] {
    return this.byClass.get(className) ?? [];
  }

  all(): CompiledSubscription[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}

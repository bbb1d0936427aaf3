import { randomBytes } from 'node:crypto';
import { checkAction, type RawAction } from '../actions/check.js';
import { defaultFlap } from '../responses/flap.js';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeErrors, validator } from '../schema.js';
import type { Store } from '../store/index.js';
import type { ProducerManifest, Subscription, SubscriptionSpec } from '../types.js';
import { compileSubscription, type CompiledSubscription } from './compiled.js';
import { checkReplicated } from './replicated.js';
import type { SubscriptionRegistry } from './registry.js';


export interface SubscriptionServiceOptions {
  node: string;
  store: Store;
  registry: SubscriptionRegistry;
  logger: Logger;
  /** A replicated subscription was refused (counted by the daemon). */
  onReplicatedRefused?: () => void;
  /** The manifest of a loaded producer class, or undefined. */
  manifest: (className: string) => ProducerManifest | undefined;
  knownClasses: () => string[];
  /** Called after a subscription is deleted, to drop evaluator state. */
  onDeleted: (id: string) => void;
  /** Whether a named response exists (a subscription may only name known ones). */
  responseExists: (name: string) => boolean;
  /** The cluster's replicated subscription map; absent on a single node (scope must then be local). */
  cluster?: SubscriptionReplicator;
}

/** Cluster-scoped subscriptions live in the cluster core's replicated map (LWW, tombstones), not in the local table. */
export interface SubscriptionReplicator {
  put(subscription: Subscription): void;
  delete(id: string): void;
}

/** Creating, listing and deleting subscriptions: validation, persistence and the registry, in that order. */
export class SubscriptionService {
  constructor(private readonly options: SubscriptionServiceOptions) {}

  /** Loads persisted subscriptions into the registry; one that no longer compiles is logged and left inactive. */
  restore(): void {
    for (const subscription of this.options.store.subscriptions.all()) {
      try {
        this.options.registry.add(compileSubscription(subscription, this.attributesOf(subscription.class)), this.evaluatedHere(subscription));
      } catch (error) {
        this.options.logger.error({ err: error, subscription: subscription.name }, 'stored subscription no longer valid; inactive');
      }
    }
  }

  /** `createdBy`: who asked (api/auth.ts: `uid:<n>` or `token:<name>`), kept with the subscription. */
  create(body: unknown, createdBy?: string): Subscription {
    const spec = this.validate(body);
    const subscription: Subscription = {
      id: randomBytes(8).toString('hex'),
      ...spec,
      node: this.options.node,
      createdAt: new Date().toISOString(),
      ...(createdBy === undefined ? {} : { createdBy }),
    };
    const compiled = compileSubscription(subscription, this.attributesOf(spec.class));
    if (this.options.registry.findByName(spec.name)) {
      throw new EventdError('EVENTD_ERR_SUBSCRIPTION_EXISTS', `name: a subscription named "${spec.name}" already exists`, { field: 'name', name: spec.name });
    }
    if (subscription.scope !== 'local' && this.options.cluster) {
      // Replicated: the map's change (applyReplicated) puts it in the registry here and on every peer.
      this.options.cluster.put(subscription);
      this.options.logger.info({ subscription: subscription.name, id: subscription.id, class: subscription.class, scope: subscription.scope }, 'cluster subscription created');
      return subscription;
    }
    this.options.store.subscriptions.insert(subscription);
    this.options.registry.add(compiled);
    this.options.logger.info({ subscription: subscription.name, id: subscription.id, class: subscription.class }, 'subscription created');
    return subscription;
  }

  /** Accepts an id or a name. */
  find(idOrName: string): CompiledSubscription {
    const found = this.options.registry.get(idOrName) ?? this.options.registry.findByName(idOrName);
    if (!found) throw new EventdError('EVENTD_ERR_SUBSCRIPTION_NOT_FOUND', `no subscription with id or name "${idOrName}"`, { id: idOrName });
    return found;
  }

  delete(idOrName: string): Subscription {
    const { subscription } = this.find(idOrName);
    if (subscription.scope !== 'local' && this.options.cluster) {
      this.options.cluster.delete(subscription.id);
      return subscription;
    }
    this.options.store.subscriptions.delete(subscription.id);
    this.options.registry.remove(subscription.id);
    this.options.onDeleted(subscription.id);
    this.options.logger.info({ subscription: subscription.name, id: subscription.id }, 'subscription deleted');
    return subscription;
  }

  /**
   * A change of the replicated map, from a peer or from this node: the
   * subscription is known here, and evaluated here when its scope names this
   * node. `null` is a delete (tombstone).
   */
  applyReplicated(id: string, value: unknown): void {
    // Checked before anything changes: a refused update keeps what is known.
    const checked = value === null ? undefined : checkReplicated(id, value);
    if (checked && !checked.ok) {
      this.options.onReplicatedRefused?.();
      this.options.logger.error({ id, problems: checked.problems }, `replicated subscription ${id} refused: ${checked.problems.join('; ')}`);
      return;
    }
    const existing = this.options.registry.get(id);
    if (existing) {
      this.options.registry.remove(id);
      if (!checked) {
        this.options.store.subscriptions.delete(id);
        this.options.onDeleted(id);
        this.options.logger.info({ subscription: existing.subscription.name, id }, 'cluster subscription deleted');
        return;
      }
    }
    if (!checked) return;
    const { subscription } = checked;
    try {
      // A class this node has no producer for is known, just never sampled here.
      this.options.registry.add(compileSubscription(subscription, this.attributesOf(subscription.class)), this.evaluatedHere(subscription));
      if (!existing) this.options.logger.info({ subscription: subscription.name, id, from: subscription.node }, 'cluster subscription known');
    } catch (error) {
      this.options.logger.error({ err: error, subscription: subscription.name, id }, 'replicated subscription does not compile here; inactive');
    }
  }

  private evaluatedHere(subscription: Subscription): boolean {
    const { scope } = subscription;
    if (scope === 'cluster') return true;
    if (scope === 'local') return subscription.node === undefined || subscription.node === this.options.node;
    return scope.includes(this.options.node);
  }

  list(): Subscription[] {
    return this.options.registry.all().map((compiled) => compiled.subscription);
  }

  private validate(body: unknown): SubscriptionSpec {
    const validate = validator('subscription.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', problems.join('; '), { problems });
    }
    const input = body as Omit<SubscriptionSpec, 'scope' | 'order' | 'actions'> & Partial<Pick<SubscriptionSpec, 'scope' | 'order'>> & { actions?: RawAction[]; flap?: Partial<NonNullable<SubscriptionSpec['flap']>> };
    if (!this.options.manifest(input.class)) {
      const known = this.options.knownClasses();
      throw new EventdError('EVENTD_ERR_UNKNOWN_CLASS', `class: no producer provides class "${input.class}"; known classes: ${known.join(', ') || '(none)'}`, { field: 'class', class: input.class, known });
    }
    const scope = input.scope ?? 'local';
    if (!this.options.cluster && (scope === 'cluster' || (Array.isArray(scope) && scope.some((node) => node !== this.options.node)))) {
      throw new EventdError('EVENTD_ERR_NO_CLUSTER', `scope: ${JSON.stringify(scope)} needs a cluster, and this daemon has no "cluster" config`, { field: 'scope' });
    }
    return {
      name: input.name,
      class: input.class,
      expr: input.expr,
      ...(input.rearm === undefined ? {} : { rearm: input.rearm }),
      ...(input.for === undefined ? {} : { for: input.for }),
      ...(input.where === undefined ? {} : { where: input.where }),
      scope,
      order: input.order ?? 'fifo',
      actions: (input.actions ?? []).map((action, index) => checkAction(action, `actions[${index}]`)),
      ...(input.responses === undefined ? {} : { responses: this.checkResponses(input.responses) }),
      ...(input.flap === undefined ? {} : { flap: checkFlap(input.flap) }),
    };
  }

  private checkResponses(names: string[]): string[] {
    names.forEach((name, index) => {
      if (!this.options.responseExists(name)) {
        throw new EventdError('EVENTD_ERR_UNKNOWN_RESPONSE', `responses[${index}]: no response named "${name}" (create it with eventctl responses create)`, { field: `responses[${index}]`, name });
      }
    });
    return names;
  }

  private attributesOf(className: string): ReadonlySet<string> | undefined {
    const manifest = this.options.manifest(className);
    return manifest ? new Set(Object.keys(manifest.attributes)) : undefined;
  }
}

function checkFlap(flap: Partial<NonNullable<SubscriptionSpec['flap']>>): NonNullable<SubscriptionSpec['flap']> {
  const settings = { ...defaultFlap, ...flap };
  if (settings.low >= settings.high) {
    throw new EventdError('EVENTD_ERR_BAD_REQUEST', `flap.low: ${settings.low} must be below flap.high ${settings.high}`, { field: 'flap.low' });
  }
  return settings;
}

import { randomBytes } from 'node:crypto';
import { checkAction, type RawAction } from '../actions/check.js';
import { defaultFlap } from '../responses/flap.js';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeErrors, validator } from '../schema.js';
import type { Store } from '../store/index.js';
import type { ExpressionWarning } from '../expression/index.js';
import type { AttributeType, ProducerManifest, Sample, Subscription, SubscriptionSpec, SubscriptionStatus } from '../types.js';
import { compileSubscription, type CompiledSubscription } from './compiled.js';
import { checkReplicated } from './replicated.js';
import type { SubscriptionHealth } from './health.js';
import type { SubscriptionRegistry } from './registry.js';
import { tryOnLatest } from './trial.js';


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
  /** This node's tags hold every one of `wanted` (scope `{ tags }`); absent: no tags, never. */
  tagsHold?: (wanted: Readonly<Record<string, string>>) => boolean;
  /** Faults and per-resource errors on this node (the evaluator's). */
  health: SubscriptionHealth;
  /** The latest sample of each resource of a class seen here: a new expression is tried on them. */
  latestSamples: (className: string) => Pick<Sample, 'node' | 'resource' | 'attrs'>[];
  /** The cluster's replicated subscription map; absent on a single node (scope must then be local). */
  cluster?: SubscriptionReplicator;
}

/** Cluster-scoped subscriptions live in the cluster core's replicated map (LWW, tombstones), not in the local table. */
export interface SubscriptionReplicator {
  put(subscription: Subscription): void;
  delete(id: string): void;
}

/** A created or changed subscription, with what its expressions' checks found legal but doubtful. */
export interface Accepted {
  subscription: Subscription;
  warnings: ExpressionWarning[];
}

interface SubscriptionPatch {
  enabled?: boolean;
  expr?: string;
  rearm?: string | null;
  where?: string | null;
  for?: number | string | null;
}

/** Creating, listing, changing and deleting subscriptions: validation, persistence and the registry, in that order. */
export class SubscriptionService {
  constructor(private readonly options: SubscriptionServiceOptions) {}

  /** Loads persisted subscriptions into the registry; one that no longer compiles is logged and left inactive. */
  restore(): void {
    for (const subscription of this.options.store.subscriptions.all()) {
      try {
        this.options.registry.add(compileSubscription(subscription, this.attributesOf(subscription.class)), this.evaluatedHere(subscription));
        if (this.options.health.fault(subscription.id)) this.options.logger.warn({ subscription: subscription.name, id: subscription.id }, 'subscription in error (out of its evaluation budget); not evaluated until changed');
      } catch (error) {
        this.options.logger.error({ err: error, subscription: subscription.name }, 'stored subscription no longer valid; inactive');
      }
    }
  }

  /**
   * Creates without trying the expressions on data: for the daemon's own
   * consumers, whose expressions are fixed in code. The API uses createTried.
   */
  create(body: unknown, createdBy?: string): Subscription {
    return this.commitNew(this.prepare(body, undefined, createdBy).compiled);
  }

  /** The API's create: the checks, then each expression tried on the latest samples of its class under the budget. */
  async createTried(body: unknown, createdBy?: string): Promise<Accepted> {
    const { compiled, warnings } = this.prepare(body, undefined, createdBy);
    await tryOnLatest(compiled, this.options.latestSamples(compiled.subscription.class));
    // Checked again: another create may have taken the name while the trial ran.
    return { subscription: this.commitNew(this.prepare(body, compiled.subscription.id, createdBy).compiled), warnings };
  }

  /** `createdBy`: who asked (api/auth.ts: `uid:<n>` or `token:<name>`), kept with the subscription. */
  private prepare(body: unknown, id?: string, createdBy?: string): { compiled: CompiledSubscription; warnings: ExpressionWarning[] } {
    const spec = this.validate(body);
    const subscription: Subscription = {
      id: id ?? this.newId(),
      ...spec,
      node: this.options.node,
      createdAt: new Date().toISOString(),
      ...(createdBy === undefined ? {} : { createdBy }),
    };
    const compiled = compileSubscription(subscription, this.attributesOf(spec.class));
    const { registry } = this.options;
    if (registry.findByName(spec.name)) {
      throw new EventdError('EVENTD_ERR_SUBSCRIPTION_EXISTS', `name: a subscription named "${spec.name}" already exists`, { field: 'name', name: spec.name });
    }
    // Commands take an id or a name: a name that is another subscription's id would make one of them unreachable.
    if (registry.get(spec.name)) {
      throw new EventdError('EVENTD_ERR_SUBSCRIPTION_EXISTS', `name: "${spec.name}" is the id of another subscription; choose another name`, { field: 'name', name: spec.name });
    }
    return { compiled, warnings: warningsOf(compiled) };
  }

  private commitNew(compiled: CompiledSubscription): Subscription {
    const { subscription } = compiled;
    if (subscription.scope !== 'local' && this.options.cluster) {
      // Replicated: the map's change (applyReplicated) puts it in the registry here and on every peer.
      this.options.cluster.put(subscription);
      this.options.logger.info({ subscription: subscription.name, id: subscription.id, class: subscription.class, scope: subscription.scope }, 'cluster subscription created');
      return subscription;
    }
    this.options.store.subscriptions.insert(subscription);
    this.options.registry.add(compiled, this.evaluatedHere(subscription));
    this.options.logger.info({ subscription: subscription.name, id: subscription.id, class: subscription.class }, 'subscription created');
    return subscription;
  }

  /** A random id that is no subscription's name. */
  private newId(): string {
    for (;;) {
      const id = randomBytes(8).toString('hex');
      if (!this.options.registry.findByName(id) && !this.options.registry.get(id)) return id;
    }
  }

  /**
   * PATCH: `enabled`, `expr`, `rearm`, `where`, `for`. Any change clears the
   * subscription's fault (here, and on every peer through `updatedAt`): a
   * fixed expression, or re-enabling it, is evaluated again.
   */
  async patch(idOrName: string, body: unknown): Promise<Accepted> {
    const validate = validator('subscription-patch.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', problems.join('; '), { problems });
    }
    const change = body as SubscriptionPatch;
    const { subscription: before } = this.find(idOrName);
    const { rearm: _rearm, where: _where, for: _for, enabled: _enabled, ...kept } = before;
    const rearm = change.rearm === undefined ? before.rearm : change.rearm ?? undefined;
    const where = change.where === undefined ? before.where : change.where ?? undefined;
    const forClause = change.for === undefined ? before.for : change.for ?? undefined;
    const enabled = change.enabled ?? before.enabled ?? true;
    const after: Subscription = {
      ...kept,
      expr: change.expr ?? before.expr,
      ...(rearm === undefined ? {} : { rearm }),
      ...(forClause === undefined ? {} : { for: forClause }),
      ...(where === undefined ? {} : { where }),
      ...(enabled ? {} : { enabled: false }),
      updatedAt: new Date().toISOString(),
    };
    const compiled = compileSubscription(after, this.attributesOf(after.class));
    const expressionsChanged = after.expr !== before.expr || after.rearm !== before.rearm || after.where !== before.where;
    if (expressionsChanged) await tryOnLatest(compiled, this.options.latestSamples(after.class));
    if (after.scope !== 'local' && this.options.cluster) {
      this.options.cluster.put(after);
    } else {
      this.options.store.subscriptions.update(after);
      this.options.health.clear(after.id);
      this.options.registry.remove(after.id);
      this.options.registry.add(compiled, this.evaluatedHere(after));
    }
    this.options.logger.info({ subscription: after.name, id: after.id, change: Object.keys(change) }, 'subscription changed');
    return { subscription: after, warnings: warningsOf(compiled) };
  }

  /** `error` wins over `disabled`: the user sees why it stopped even if they also disabled it. */
  status(subscription: Subscription): SubscriptionStatus {
    if (this.options.health.fault(subscription.id)) return 'error';
    return subscription.enabled === false ? 'disabled' : 'active';
  }

  /** The evaluator found it out of budget (and committed the fault): keep it known, stop evaluating it here. */
  suspend(id: string): void {
    const compiled = this.options.registry.remove(id);
    if (compiled) this.options.registry.add(compiled, false);
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
    this.options.health.forget(subscription.id);
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
        this.options.health.forget(id);
        this.options.onDeleted(id);
        this.options.logger.info({ subscription: existing.subscription.name, id }, 'cluster subscription deleted');
        return;
      }
    }
    if (!checked) return;
    const { subscription } = checked;
    // Changed (a PATCH here or on a peer) since this node faulted it: evaluate it again.
    if (existing && existing.subscription.updatedAt !== subscription.updatedAt && this.options.health.fault(id)) this.options.health.clear(id);
    try {
      // A class this node has no producer for is known, just never sampled here.
      this.options.registry.add(compileSubscription(subscription, this.attributesOf(subscription.class)), this.evaluatedHere(subscription));
      if (!existing) this.options.logger.info({ subscription: subscription.name, id, from: subscription.node }, 'cluster subscription known');
    } catch (error) {
      this.options.logger.error({ err: error, subscription: subscription.name, id }, 'replicated subscription does not compile here; inactive');
    }
  }

  /** Evaluated on this node: in its scope, enabled, and not out of budget here. */
  private evaluatedHere(subscription: Subscription): boolean {
    if (subscription.enabled === false || this.options.health.fault(subscription.id)) return false;
    const { scope } = subscription;
    if (scope === 'cluster') return true;
    if (scope === 'local') return subscription.node === undefined || subscription.node === this.options.node;
    if (!Array.isArray(scope)) return this.options.tagsHold?.(scope.tags) ?? false;
    return scope.includes(this.options.node);
  }

  /** This node's tags changed: each tag-scoped subscription is evaluated here again, or no longer. */
  placeTagScoped(): void {
    for (const compiled of this.options.registry.all()) {
      const { subscription } = compiled;
      if (typeof subscription.scope !== 'object' || Array.isArray(subscription.scope)) continue;
      this.options.registry.remove(subscription.id);
      this.options.registry.add(compiled, this.evaluatedHere(subscription));
    }
  }

  list(): Subscription[] {
    return this.options.registry.all().map((compiled) => compiled.subscription);
  }

  private validate(body: unknown): SubscriptionSpec & { enabled?: false } {
    const validate = validator('subscription.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', problems.join('; '), { problems });
    }
    const input = body as Omit<SubscriptionSpec, 'scope' | 'order' | 'actions'> & Partial<Pick<SubscriptionSpec, 'scope' | 'order'>> & { actions?: RawAction[]; flap?: Partial<NonNullable<SubscriptionSpec['flap']>> } & { enabled?: boolean };
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
      ...(input.enabled === false ? { enabled: false } : {}),
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

  /** The class's attribute types from its manifest: names are checked, and types. */
  private attributesOf(className: string): ReadonlyMap<string, AttributeType> | undefined {
    const manifest = this.options.manifest(className);
    return manifest ? new Map(Object.entries(manifest.attributes).map(([name, spec]) => [name, spec.type])) : undefined;
  }
}

function checkFlap(flap: Partial<NonNullable<SubscriptionSpec['flap']>>): NonNullable<SubscriptionSpec['flap']> {
  const settings = { ...defaultFlap, ...flap };
  if (settings.low >= settings.high) {
    throw new EventdError('EVENTD_ERR_BAD_REQUEST', `flap.low: ${settings.low} must be below flap.high ${settings.high}`, { field: 'flap.low' });
  }
  return settings;
}

function warningsOf(compiled: CompiledSubscription): ExpressionWarning[] {
  return [compiled.expr, compiled.rearm, compiled.where].flatMap((expression) => expression?.warnings ?? []);
}

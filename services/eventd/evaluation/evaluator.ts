import { budgetFault, truthy, type Bindings, type CompiledExpression } from '../expression/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import type { ThresholdKey } from '../store/threshold-states.js';
import type { CompiledSubscription } from '../subscriptions/compiled.js';
import type { SubscriptionRegistry } from '../subscriptions/registry.js';
import { resourceId, SubscriptionHealth, type ResourceErrors, type SubscriptionFault } from '../subscriptions/health.js';
import type { Attrs, EventType, Sample } from '../types.js';
import type { EventDraft, EventRecorder } from '../log/append.js';
import type { EventLog } from '../log/event-log.js';
import { deciding, initialState, step, type ThresholdState } from './threshold.js';
import { flapStep, initialFlapState, type FlapState } from '../responses/flap.js';

export interface EvaluatorOptions {
  node: string;
  store: Store;
  registry: SubscriptionRegistry;
  metrics: Metrics;
  logger: Logger;
  /** The one append path: commits a batch and announces its events after the commit. */
  log: EventLog;
  /** Gives events their identity (a local sequence, or the cluster core). */
  recorder: EventRecorder;
  /** The id of the silence muting a new event, if any: the event carries it (`silenced`), and its responses do not run. */
  silencing?: (draft: EventDraft) => string | undefined;
  /** Faults and per-resource errors, in memory; the evaluator writes them in its batch. Default: read from the store. */
  health?: SubscriptionHealth;
  /** After the commit of a batch in which the subscription ran out of budget (the registry lets its producer sleep). */
  onFault?: (subscription: string) => void;
  /** This node's tags, bound as $tags. */
  tags?: () => Readonly<Record<string, string>>;
}

interface PendingFault {
  fault: SubscriptionFault;
  compiled: CompiledSubscription;
  sample: Sample;
  expr: string;
}

type Field = 'expr' | 'rearm' | 'where';

interface PendingEvent {
  type: EventType;
  compiled: CompiledSubscription;
  sample: Sample;
  prev: Attrs | undefined;
  expr: string;
  key: ThresholdKey;
  /** A crossing while the key flaps (its responses do not run). */
  flapping?: boolean;
  /** flapping / flapping-end: the percent state change that decided it. */
  percent?: number;
}

/**
 * Filtering is central (DESIGN.md): every sample batch is evaluated here
 * against the subscriptions naming its class, and each crossing becomes an
 * event written in the same transaction as the threshold state that caused
 * it and the action runs it owes, so a kill -9 neither repeats nor loses one.
 * Memory follows disk: a batch's threshold states and latest samples reach
 * the in-memory maps only once its transaction has committed.
 */
export class Evaluator {
  private readonly thresholds = new Map<string, ThresholdState>();
  private readonly latest = new Map<string, Attrs>();
  /** Flap history of subscriptions with `flap`, by threshold id. */
  private readonly flaps = new Map<string, FlapState>();
  private queue: Promise<void> = Promise.resolve();
  readonly health: SubscriptionHealth;

  constructor(private readonly options: EvaluatorOptions) {
    this.health = options.health ?? new SubscriptionHealth(options.store);
    for (const { key, state } of options.store.thresholdStates.all()) this.thresholds.set(thresholdId(key), state);
    for (const sample of options.store.samples.list()) this.latest.set(sampleId(sample), sample.attrs);
    for (const { key, state } of options.store.flapStates.all()) this.flaps.set(thresholdId(key), state);
  }

  /**
   * Queues a batch; batches are evaluated one at a time, in arrival order.
   * Each waits for a turn of the event loop (setImmediate): evaluation runs
   * in promise callbacks, and a backlog of batches chained without a yield
   * would hold timers and sockets (the cluster's heartbeats, the API) until
   * the last one is done; a burst of samples made peers declare this node down.
   */
  submit(className: string, samples: Sample[]): Promise<void> {
    const run = this.queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => this.evaluate(className, samples));
    this.queue = run.catch((error: unknown) => {
      this.options.logger.error({ err: error, class: className }, 'evaluation batch failed');
    });
    return run;
  }

  /** Resolves once every batch submitted so far is evaluated and committed. */
  drain(): Promise<void> {
    return this.queue;
  }

  /** Forgets the in-memory state of a deleted subscription (its rows are deleted with it). */
  forget(subscriptionId: string): void {
    const prefix = subscriptionId + '\u0000';
    for (const id of this.thresholds.keys()) if (id.startsWith(prefix)) this.thresholds.delete(id);
    for (const id of this.flaps.keys()) if (id.startsWith(prefix)) this.flaps.delete(id);
  }

  /** The latest sample of every resource of the class seen here (creation tries a new expression on them). */
  latestSamples(className: string): Pick<Sample, 'node' | 'resource' | 'attrs'>[] {
    const prefix = className + '\u0000';
    const result: Pick<Sample, 'node' | 'resource' | 'attrs'>[] = [];
    for (const [id, attrs] of this.latest) {
      if (!id.startsWith(prefix)) continue;
      const [, node, resource] = id.split('\u0000') as [string, string, string];
      result.push({ node, resource, attrs });
    }
    return result;
  }

  thresholdStates(subscriptionId: string): { node: string; resource: string; state: ThresholdState }[] {
    const prefix = subscriptionId + '\u0000';
    const result: { node: string; resource: string; state: ThresholdState }[] = [];
    for (const [id, state] of this.thresholds) {
      if (!id.startsWith(prefix)) continue;
      const [, node, resource] = id.split('\u0000') as [string, string, string];
      result.push({ node, resource, state });
    }
    return result;
  }

  private async evaluate(className: string, samples: Sample[]): Promise<void> {
    const { health } = this;
    // A faulted subscription is not evaluated, whether or not the registry has let it go yet.
    const subscriptions = this.options.registry.forClass(className).filter((compiled) => health.fault(compiled.subscription.id) === undefined);
    // This batch's changes, applied to memory only after they commit.
    const changed = new Map<string, { key: ThresholdKey; state: ThresholdState }>();
    const flapChanged = new Map<string, { key: ThresholdKey; state: FlapState }>();
    const latest = new Map<string, Attrs>();
    const pending: PendingEvent[] = [];
    const errorsChanged = new Map<string, ResourceErrors>();
    const faults = new Map<string, PendingFault>();
    let evaluations = 0;
    let errors = 0;
    for (const sample of samples) {
      const resourceKey = sampleId(sample);
      const nodeResource = sample.node + '\u0000' + sample.resource;
      const prev = latest.get(resourceKey) ?? this.latest.get(resourceKey);
      const bindings: Bindings = { prev, node: sample.node, resource: sample.resource, class: sample.class, tags: this.options.tags?.() ?? {} };
      for (const compiled of subscriptions) {
        // Out of budget earlier in this batch: not evaluated again, here or after the commit.
        if (faults.size > 0 && faults.has(compiled.subscription.id)) continue;
        const id = compiled.subscription.id + '\u0000' + nodeResource; // = thresholdId(key)
        let field: Field = 'where';
        let expression: CompiledExpression | undefined = compiled.where;
        try {
          if (compiled.where) {
            let where = compiled.where.evaluate(sample.attrs, bindings);
            if (where instanceof Promise) where = await where;
            if (!truthy(where)) continue;
          }
          const state = changed.get(id)?.state ?? this.thresholds.get(id) ?? initialState;
          const which = deciding(state, compiled.rearm !== undefined);
          field = which === 'rearm' ? 'rearm' : 'expr';
          expression = which === 'rearm' ? (compiled.rearm as CompiledExpression) : compiled.expr;
          // Fast-path expressions answer synchronously; awaiting them would cost a microtask each.
          let result = expression.evaluate(sample.attrs, bindings);
          if (result instanceof Promise) result = await result;
          const value = truthy(result);
          evaluations++;
          const next = step(state, which === 'not-expr' ? !value : value, sample.time, compiled.forClause);
          if (errorsChanged.size > 0 || health.anyFailing) {
            const failed = errorsChanged.get(id) ?? health.resource(id);
            if (failed?.failing) errorsChanged.set(id, { ...failed, failing: false });
          }
          const key = { subscription: compiled.subscription.id, node: sample.node, resource: sample.resource };
          const flap = compiled.subscription.flap;
          let flapping = false;
          let flapChange: { type: EventType; percent: number } | undefined;
          if (flap) {
            // Every sample moves the flap history, whether or not the threshold state changed.
            const before = flapChanged.get(id)?.state ?? this.flaps.get(id) ?? initialFlapState;
            const moved = flapStep(before, next.state.state === 'fired', flap);
            flapChanged.set(id, { key, state: moved.state });
            flapping = before.flapping || moved.state.flapping;
            if (moved.change) flapChange = { type: moved.change === 'start' ? 'flapping' : 'flapping-end', percent: moved.percent };
          }
          if (next.changed) changed.set(id, { key, state: next.state });
          if (next.emit) pending.push({ type: next.emit, compiled, sample, prev, expr: expression.source, key, ...(flapping ? { flapping } : {}) });
          if (flapChange && flap) {
            const bound = flapChange.type === 'flapping' ? `> high ${flap.high}` : `< low ${flap.low}`;
            pending.push({ type: flapChange.type, compiled, sample, prev, expr: `percent state change ${flapChange.percent.toFixed(1)}% ${bound}`, key, percent: flapChange.percent });
          }
        } catch (error) {
          errors++;
          const fault = budgetFault(error);
          if (fault) {
            const { id: subscription } = compiled.subscription;
            const message = `${field}: ${fault.message}`;
            faults.set(subscription, { compiled, sample, expr: expression?.source ?? compiled.expr.source, fault: { subscription, field, code: fault.code, message, node: sample.node, resource: sample.resource, at: sample.time } });
            continue;
          }
          const key = { subscription: compiled.subscription.id, node: sample.node, resource: sample.resource };
          const before = errorsChanged.get(id) ?? health.resource(id);
          // Log once per failing (subscription, resource) until it evaluates again.
          if (!before?.failing) {
            this.options.logger.warn({ err: error, subscription: compiled.subscription.name, resource: sample.resource }, 'expression failed on a sample; skipped');
          }
          errorsChanged.set(id, { key, errors: (before?.errors ?? 0) + 1, failing: true, lastError: lastError(field, error, sample.time) });
        }
      }
      latest.set(resourceKey, sample.attrs);
    }
    // Changed or deleted while this batch ran (a PATCH between two awaits): the fault was the old expression's.
    for (const [id, item] of faults) if (this.options.registry.get(id) !== item.compiled) faults.delete(id);
    // Counted once per batch: a labelled counter per evaluation would cost more than the evaluation.
    this.options.metrics.evaluations.inc({ class: className }, evaluations);
    if (errors > 0) this.options.metrics.evaluationErrors.inc({ class: className }, errors);
    this.commit(className, samples, changed, flapChanged, pending, errorsChanged, faults);
    for (const [id, { state }] of changed) this.thresholds.set(id, state);
    for (const [id, { state }] of flapChanged) this.flaps.set(id, state);
    for (const [id, attrs] of latest) this.latest.set(id, attrs);
    health.committed([...faults.values()].map((item) => item.fault), errorsChanged.values());
    for (const { fault, compiled } of faults.values()) {
      this.options.logger.error({ subscription: compiled.subscription.name, id: fault.subscription, field: fault.field, code: fault.code, resource: fault.resource }, `subscription ran out of its evaluation budget; no longer evaluated: ${fault.message}`);
      this.options.onFault?.(fault.subscription);
    }
  }

  /** One transaction: the samples, the events (through the recorder) and the threshold states that caused them. */
  private commit(
    className: string,
    samples: Sample[],
    changed: Map<string, { key: ThresholdKey; state: ThresholdState }>,
    flapChanged: Map<string, { key: ThresholdKey; state: FlapState }>,
    pending: PendingEvent[],
    errorsChanged: Map<string, ResourceErrors>,
    faults: Map<string, PendingFault>,
  ): void {
    const { store, log, recorder, metrics } = this.options;
    log.transaction(`evaluation of ${className} samples`, () => {
      for (const sample of samples) store.samples.save(sample);
      for (const entry of errorsChanged.values()) store.health.saveErrors(entry);
      // The fault and its one `error` event commit together: a restart neither repeats nor loses it.
      for (const item of faults.values()) {
        item.fault.event = recorder.record(this.faultDraft(item), item.compiled.subscription);
        store.health.saveFault(item.fault);
      }
      for (const item of pending) {
        const eventId = recorder.record(this.draft(item), item.compiled.subscription);
        if (item.type === 'flapping' || item.type === 'flapping-end') continue;
        // The key's final state in this batch names its last event.
        const entry = changed.get(thresholdId(item.key));
        if (entry) entry.state = { ...entry.state, lastEvent: eventId };
      }
      for (const { key, state } of changed.values()) store.thresholdStates.save(key, state);
      for (const { key, state } of flapChanged.values()) store.flapStates.save(key, state);
    });
    metrics.samples.inc({ class: className }, samples.length);
  }

  private faultDraft(item: PendingFault): EventDraft {
    const { fault } = item;
    return {
      ...sampleDraft('error', item.compiled, item.sample, item.expr, item.sample.attrs),
      error: { field: fault.field, code: fault.code, message: fault.message },
    };
  }

  private draft(item: PendingEvent): EventDraft {
    const attrs = item.percent === undefined ? item.sample.attrs : { ...item.sample.attrs, percentStateChange: Math.round(item.percent * 10) / 10 };
    const draft: EventDraft = {
      ...sampleDraft(item.type, item.compiled, item.sample, item.expr, attrs),
      ...(item.prev === undefined ? {} : { prev: item.prev }),
      ...(item.flapping ? { flapping: true } : {}),
    };
    const silenced = this.options.silencing?.(draft);
    return silenced === undefined ? draft : { ...draft, silenced };
  }
}

const thresholdId = resourceId;

/** What every event of a subscription about one sample carries, whatever its type. */
function sampleDraft(type: EventType, compiled: CompiledSubscription, sample: Sample, expr: string, attrs: Attrs): EventDraft {
  const { subscription } = compiled;
  return {
    type,
    subscription: subscription.id,
    subscriptionName: subscription.name,
    class: sample.class,
    resource: sample.resource,
    node: sample.node,
    expr,
    attrs,
    time: new Date(sample.time).toISOString(),
  };
}

/** jsonata's errors are plain objects with code, position and message; the fast path's are ExpressionRuntimeErrors of the same shape. */
function lastError(field: Field, error: unknown, at: number): ResourceErrors['lastError'] {
  const fields = typeof error === 'object' && error !== null ? (error as { code?: unknown; position?: unknown; message?: unknown }) : {};
  const message = typeof fields.message === 'string' ? fields.message : String(error);
  return {
    field,
    message: `${field}: ${message}`,
    at,
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.position === 'number' ? { position: fields.position } : {}),
  };
}

function sampleId(sample: Pick<Sample, 'class' | 'node' | 'resource'>): string {
  return `${sample.class}\u0000${sample.node}\u0000${sample.resource}`;
}

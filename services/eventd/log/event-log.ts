// The one append path. Every event reaches this node's log through
// `append`, inside `transaction`; only after that transaction commits is
// anything announced: events counted, the feed (SSE, consumers) notified,
// the action dispatcher kicked, and the after-commit work of the
// transaction (the cluster edge's frames) run. A transaction that fails is
// fatal (DESIGN.md, "Storage": fail-stop): nothing of it is announced, and
// the daemon stops rather than go on with memory ahead of disk.
import type { EventFeed } from '../event-feed.js';
import { planActions, type PlanInputs } from '../responses/plan.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import type { Replicated } from '../store/events.js';
import type { EventRecord } from '../types.js';
import type { Appended, EventOwner } from './append.js';

export interface EventLogOptions {
  store: Store;
  metrics: Metrics;
  feed: EventFeed;
  /** New action runs were committed. */
  onActionsQueued: () => void;
  /** A transaction failed: stop the daemon (fail-stop). */
  fatal: (error: unknown, what: string) => void;
  /** Named responses and mutes (inhibition) the action plan consults; absent: inline actions only, never muted. */
  plan?: Omit<PlanInputs, 'node'>;
  /** Sees every event appended, in log order, before its plan (the inhibitor's memory follows the log). */
  observe?: (event: EventRecord) => void;
}

const noResponses: Omit<PlanInputs, 'node'> = { response: () => undefined };

interface Open {
  appended: Appended[];
  actionsQueued: boolean;
  beforeCommit: (() => void)[];
  afterCommit: (() => void)[];
}

export class EventLog {
  private open: Open | undefined;

  constructor(private readonly options: EventLogOptions) {}

  /**
   * Runs `work` in one SQLite transaction (nested calls join the outer one),
   * then announces what it appended. `what` names the work in the fatal log
   * line when the transaction fails.
   */
  transaction<T>(what: string, work: () => T): T {
    if (this.open) return work();
    const open: Open = { appended: [], actionsQueued: false, beforeCommit: [], afterCommit: [] };
    this.open = open;
    let result: T;
    try {
      result = this.options.store.transaction(() => {
        const done = work();
        // Writes held for the end of the transaction: part of it, committed (or rolled back) with it.
        for (let i = 0; i < open.beforeCommit.length; i++) open.beforeCommit[i]!();
        return done;
      });
    } catch (error) {
      this.options.fatal(error, what);
      throw error;
    } finally {
      this.open = undefined;
    }
    this.announce(open);
    return result;
  }

  /**
   * Inside a transaction: the event into the log, with the action runs its owner owes on this node.
   * `replicated`: the cluster core keeps this row as its copy of the event (store/events.ts).
   */
  append(event: EventRecord, owner: EventOwner | undefined, node: string, replicated?: Replicated): number {
    const open = this.requireOpen('append');
    const { store } = this.options;
    const pos = store.events.append(event, replicated);
    this.options.observe?.(event);
    // The runs this node owes (DESIGN.md, "Responses"), skipped ones with their reason, in the event's transaction.
    const now = Date.now();
    for (const draft of planActions(event, owner, { ...(this.options.plan ?? noResponses), node })) {
      store.actionRuns.enqueue(draft, now);
      if (draft.skip === undefined) open.actionsQueued = true;
    }
    open.appended.push({ pos, event });
    return pos;
  }

  /** Inside a transaction: `work` runs at its end, still inside it (writes gathered over the transaction, made once). */
  beforeCommit(work: () => void): void {
    this.requireOpen('beforeCommit').beforeCommit.push(work);
  }

  /** Inside a transaction: `work` runs once it has committed (never if it fails). */
  afterCommit(work: () => void): void {
    this.requireOpen('afterCommit').afterCommit.push(work);
  }

  private requireOpen(what: string): Open {
    if (!this.open) throw new Error(`EventLog.${what} outside a transaction`);
    return this.open;
  }

  private announce(open: Open): void {
    const { metrics, feed } = this.options;
    for (const { event } of open.appended) metrics.events.inc({ type: event.type, class: event.class });
    for (const work of open.afterCommit) work();
    feed.publish(open.appended);
    if (open.actionsQueued) this.options.onActionsQueued();
  }
}

import { ActionRunStore } from './action-runs.js';
import { AuditStore } from './audit.js';
import { ConsumerCursorStore } from './consumer-cursors.js';
import { openDb, type Db } from './db.js';
import { EventStore } from './events.js';
import { FlapStateStore } from './flap-states.js';
import { InhibitRuleStore } from './inhibit-rules.js';
import { MetaStore } from './meta.js';
import { ResponseStore } from './responses.js';
import { SilenceStore } from './silences.js';
import { SampleStore } from './samples.js';
import { SubscriptionHealthStore } from './subscription-health.js';
import { SubscriptionStore } from './subscriptions.js';
import { ThresholdStateStore } from './threshold-states.js';

/** The node's SQLite store: one file, one connection, a repository per table. */
export class Store {
  readonly subscriptions: SubscriptionStore;
  readonly health: SubscriptionHealthStore;
  readonly thresholdStates: ThresholdStateStore;
  readonly samples: SampleStore;
  readonly events: EventStore;
  readonly actionRuns: ActionRunStore;
  readonly consumerCursors: ConsumerCursorStore;
  readonly meta: MetaStore;
  readonly responses: ResponseStore;
  readonly silences: SilenceStore;
  readonly inhibitRules: InhibitRuleStore;
  readonly flapStates: FlapStateStore;
  readonly audit: AuditStore;

  constructor(readonly db: Db) {
    this.subscriptions = new SubscriptionStore(db);
    this.health = new SubscriptionHealthStore(db);
    this.thresholdStates = new ThresholdStateStore(db);
    this.samples = new SampleStore(db);
    this.events = new EventStore(db);
    this.actionRuns = new ActionRunStore(db);
    this.consumerCursors = new ConsumerCursorStore(db);
    this.meta = new MetaStore(db);
    this.responses = new ResponseStore(db);
    this.silences = new SilenceStore(db);
    this.inhibitRules = new InhibitRuleStore(db);
    this.flapStates = new FlapStateStore(db);
    this.audit = new AuditStore(db);
  }

  static open(dataDir: string): Store {
    return new Store(openDb(dataDir));
  }

  /** Runs `work` in one SQLite transaction: all of it is durable, or none. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export type { Db };

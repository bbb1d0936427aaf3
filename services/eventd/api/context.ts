import type { Member } from '../cluster/edge/cluster-node.js';
import type { Config } from '../config.js';
import type { AuthOptions } from './auth.js';
import type { ConsumerRouter } from './routes/consumers.js';
import type { EventFeed } from '../event-feed.js';
import type { Evaluator } from '../evaluation/evaluator.js';
import type { Metrics } from '../metrics.js';
import type { InhibitRuleService } from '../responses/inhibit-rules.js';
import type { ResponseService } from '../responses/service.js';
import type { SilenceService } from '../responses/silences.js';
import type { SampleHistory } from '../sample-history.js';
import type { Store } from '../store/index.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { EventClasses } from '../messaging/event-classes.js';
import type { RaiseService } from '../messaging/raise.js';
import type { TagService } from '../messaging/tags.js';
import type { QueryService } from '../messaging/queries.js';
import type { MonitorFeed } from '../messaging/monitor-feed.js';
import type { ProducerManifest } from '../types.js';

/** What the routes need from the daemon; the API owns no state of its own. */
export interface ApiContext {
  config: Config;
  /** Who may call over TCP, and the Host check (auth.ts). */
  auth: AuthOptions;
  version: string;
  startedAt: number;
  store: Store;
  subscriptions: SubscriptionService;
  responses: ResponseService;
  silences: SilenceService;
  /** Inhibition rules (config and API); absent: none, and none can be made. */
  inhibitRules?: Pick<InhibitRuleService, 'create' | 'list' | 'delete'>;
  evaluator: Evaluator;
  feed: EventFeed;
  metrics: Metrics;
  /** Recent samples per resource, for the console's charts. */
  history: SampleHistory;
  /** Routes the running consumers add, found per request (they start after the API is built). */
  consumerRoutes: ConsumerRouter;
  /** Classes of the consumers' internal records (FailoverVote, FailoverNode): left out of /v1/events unless ?internal=true. */
  internalClasses?: readonly string[];
  /** Absent on a single node. */
  cluster?: {
    view(): string[];
    members(): Member[];
  };
  /** Raising events of declared classes (absent: no POST /v1/events, e.g. in unit tests). */
  raise?: RaiseService;
  eventClasses?: EventClasses;
  /** This node's tags and its peers' (absent in unit tests). */
  tags?: TagService;
  /** Asking queries (absent in unit tests: no POST /v1/queries). */
  queries?: QueryService;
  /** The live monitor (absent in unit tests: no GET /v1/monitor). */
  monitor?: MonitorFeed;
  producers: {
    manifests(): ProducerManifest[];
    awake(): string[];
  };
}

// The consumer plugin contract: what a folder consumers/<name>/ exports and
// what the host hands it. A consumer reads the committed event log in
// delivery order from its own durable cursor, so it is at least once and
// never holds up evaluation: the evaluator only commits and notifies.
import type { Registry } from 'prom-client';
import type { FeedItem } from '../event-feed.js';
import type { EventDraft } from '../log/append.js';
import type { Logger } from '../logger.js';
import type { Order } from '../types.js';

/** Read access to this node's event log (the events table, in delivery order). */
export interface ConsumerEventLog {
  /** Up to `limit` events after position `afterPos`, in delivery order. */
  after(afterPos: number, limit: number): FeedItem[];
  /** The highest position so far; 0 for an empty log. */
  lastPos(): number;
  /** An event by id with its position; undefined when unknown or pruned. */
  find(id: string): FeedItem | undefined;
  /** How many events lie after `afterPos`, and the time (ms) of the oldest of them. */
  backlog(afterPos: number): { count: number; oldestTime: number | undefined };
}

/**
 * The consumer's durable position in the event log. While the consumer runs,
 * pruning never deletes an event after its position (the retention hold), so
 * events.maxCount / maxAgeMs cannot drop what it has not finished with.
 */
export interface ConsumerCursor {
  /** The position this consumer saved on an earlier run; undefined the first time it runs. */
  saved(): number | undefined;
  /** Persists `pos` (every event up to it is done) and moves the hold to it. */
  save(pos: number): void;
}

/** One (subscription, node, resource) threshold state, as persisted. */
export interface ConsumerThresholdState {
  subscription: string;
  node: string;
  resource: string;
  state: 'armed' | 'fired';
  /** Id of the event or rearm that put it there, if any. */
  lastEvent?: string;
}

export interface ConsumerContext<C = unknown> {
  /** This node's name. */
  readonly node: string;
  /** This node is a witness (eventd --witness): it votes, and runs nothing for the cluster. */
  readonly witness: boolean;
  /** The consumer's settings: its config section validated, checked by `settings()`, and frozen. */
  readonly config: C;
  /** Routes this consumer adds to the local API, served under the API's auth; add them in start(). */
  readonly routes: ConsumerRoutes;
  readonly logger: Logger;
  /** The daemon's metrics registry: register the consumer's own metrics here. */
  readonly registry: Registry;
  readonly events: ConsumerEventLog;
  readonly cursor: ConsumerCursor;
  /** Every persisted threshold state, read now. */
  thresholdStates(): ConsumerThresholdState[];
  /** Calls `listener` after each batch of events is committed; returns the function that stops it. */
  onEvents(listener: (items: FeedItem[]) => void): () => void;
  /**
   * Records an event of this node (a consumer's own report, e.g. a failover
   * group's state), through the cluster core when there is one, and commits
   * it; returns its id. `reach: cluster` puts it in every node's log.
   */
  raise(draft: EventDraft, options: { reach: 'cluster' | 'local'; order: Order }): string;
  /** The cluster as this node sees it; absent on a single node. */
  readonly cluster?: ConsumerCluster;
  /**
   * A local subscription this consumer depends on (the failover consumer's
   * group monitors), created or brought up to date by name; returns its id.
   * Call it once the daemon runs (not from start()), as subscriptions are
   * restored after consumers start.
   */
  ensureSubscription(spec: ConsumerSubscriptionSpec): string;
}

export interface ConsumerSubscriptionSpec {
  name: string;
  class: string;
  expr: string;
  rearm?: string;
  where?: string;
  for?: number | string;
}

export interface ConsumerCluster {
  /** The agreed view: the same on every node of a majority once it settles. */
  view(): string[];
  /** This node and the peers heard within suspectAfterMs now: what a node counts to know it still has quorum. */
  reachable(): string[];
  /** How many nodes the cluster is configured with (cluster.peers): a quorum is more than half of it. */
  readonly size: number;
  readonly suspectAfterMs: number;
  /**
   * How old (ms, monotonic) the heartbeat acks are that a lease of this node
   * rests on: this node plus floor(size / 2) peers acknowledged a heartbeat
   * sent that long ago or later (cluster/core/lease.ts). Infinity when too few
   * peers acknowledged any.
   */
  leaseAgeMs(): number;
  /** Ms (monotonic) since any frame of `node` arrived; Infinity when none did since this daemon started. */
  silentForMs(node: string): number;
}

/** A request to a consumer's route, as the API parsed it. */
export interface ConsumerRequest {
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  body: unknown;
}

/** A route a consumer adds to the local API (the failover consumer: GET /v1/groups). */
export interface ConsumerRoute {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** fastify syntax: /v1/groups/:name */
  url: string;
  /** Its JSON answer; an EventdError thrown becomes the error body with its status. */
  handler(request: ConsumerRequest): unknown;
}

export interface ConsumerRoutes {
  add(route: ConsumerRoute): void;
}

export interface RunningConsumer {
  /**
   * Called first when the daemon stops gracefully, while the cluster and the
   * log still run (the failover consumer stops its groups and reports it).
   */
  drain?(): Promise<void>;
  /** Stops work and releases connections; bounded in time, never throws to the daemon. */
  stop(): Promise<void>;
}

/** The JSON Schema of a consumer's config section (draft-07, checked by ajv strict mode). */
export type ConfigSchema = Readonly<Record<string, unknown>>;

/** The default export of consumers/<name>/index.js. */
export interface ConsumerPlugin<C = unknown> {
  /** Names the consumer in logs and its cursor row; kebab-case, stable. */
  readonly name: string;
  /** Classes of its internal records, left out of GET /v1/events and eventctl events unless asked for. */
  readonly internalClasses?: readonly string[];
  /** The config key that turns it on: absent, the consumer is not started. */
  readonly configKey: string;
  /** The schema of `config[configKey]`, assembled into the daemon's config schema: a typo is an error at start naming the key. */
  readonly configSchema: ConfigSchema;
  /** The section a witness runs this consumer with when its config has none (failover: it votes); absent: off on a witness without it. */
  readonly witnessSection?: unknown;
  /**
   * Checks beyond the schema, defaults applied and relative paths resolved
   * against `configDir` (the config file's folder), at daemon start before
   * anything runs; throws an EventdError naming the key.
   */
  settings(section: unknown, configDir: string): C;
  /** Must not wait on anything outside the process (a broker, a peer): the daemon's start waits on it. */
  start(ctx: ConsumerContext<C>): Promise<RunningConsumer>;
}

export function isConsumerPlugin(value: unknown): value is ConsumerPlugin {
  if (value === null || typeof value !== 'object') return false;
  const plugin = value as Record<string, unknown>;
  return typeof plugin.name === 'string' && plugin.name !== '' && typeof plugin.configKey === 'string' && plugin.configKey !== ''
    && typeof plugin.configSchema === 'object' && plugin.configSchema !== null && typeof plugin.settings === 'function' && typeof plugin.start === 'function';
}

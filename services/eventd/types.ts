// The shapes of the domain, one definition each (DESIGN.md, "Terms and shapes").

export type AttributeType = 'number' | 'string' | 'boolean';
export type AttrValue = number | string | boolean;
export type Attrs = Record<string, AttrValue>;

export interface AttributeSpec {
  type: AttributeType;
  unit?: string;
  description?: string;
}

export interface ProducerManifest {
  class: string;
  description?: string;
  /** Default period; `producers.<Class>.periodMs` in config overrides it. */
  periodMs: number;
  /** Executable producers name their program; module producers have none. */
  exec?: string;
  /** Executables only: run once per period (default) or keep running and stream lines. */
  mode?: 'periodic' | 'stream';
  /** JSON Schema of the settings under producers.<Class> (besides periodMs); absent: none. */
  configSchema?: { type: 'object'; properties: Record<string, unknown> } & Record<string, unknown>;
  attributes: Record<string, AttributeSpec>;
}

/** What a producer reports: one resource of its class at one moment. */
export interface Sample {
  class: string;
  resource: string;
  node: string;
  /** Milliseconds since the epoch. */
  time: number;
  attrs: Attrs;
}

/** What a producer returns before the daemon stamps class, node and time. */
export interface RawSample {
  resource: string;
  attrs: Attrs;
}

/** A crossing (event, rearm), or the start and end of flapping (subscriptions with `flap`). */
/** `error`: the subscription ran out of its evaluation budget on `node` and is no longer evaluated there. */
export type EventType = 'event' | 'rearm' | 'flapping' | 'flapping-end' | 'error';
/** What an action's `on` names: flapping runs the actions of `event`, flapping-end those of `rearm`. */
export type CrossingType = 'event' | 'rearm';
/** `{ tags }`: evaluated on the nodes whose tags hold every one given, placed again as tags change. */
export type Scope = 'local' | 'cluster' | string[] | { tags: Record<string, string> };
export type Order = 'fifo' | 'agreed';

/** Where an action runs: the node that owns the subscription, the node the resource lives on, or every node. */
export type ActionPlacement = 'owner' | 'origin' | 'all';

/** What every action kind has: its time limit, which events it answers, its placement and retry bounds. */
export interface ActionCommon {
  /** As given, e.g. "10s". */
  timeout: string;
  on: CrossingType[];
  /** Absent: "owner". */
  where?: ActionPlacement;
  /** Attempts before the run is given up; absent: actions.retry.maxAttempts. */
  maxAttempts?: number;
  /** How long after the event a run may still be tried, e.g. "1h"; absent: actions.retry.maxAge. */
  maxAge?: string;
  /** Set from the response's batch: the events of `interval` (or `maxEvents` of them) go to one run as an array. */
  batch?: ResponseBatch;
}

/** ERRM's -b interval,max_events. */
export interface ResponseBatch {
  /** e.g. "1m": how long the first event of a batch waits for others. */
  interval: string;
  maxEvents: number;
}

/** Runs an executable with the event on stdin. */
export interface RunAction extends ActionCommon {
  run: string;
  args?: string[];
  /** The exit code that means success; absent: 0. */
  expectedExit?: number;
  /** Leave what the script started running when it exits; by default its process tree is killed then. */
  detach?: boolean;
}

/** POSTs the event JSON (or a batch array) with `Idempotency-Key: <event id>`. */
export interface WebhookAction extends ActionCommon {
  webhook: { url: string; method: string; headers?: Record<string, string> };
}

/** Mails the event through the configured SMTP server (config smtp). */
export interface EmailAction extends ActionCommon {
  email: { to: string[]; subject?: string };
}

export type ActionSpec = RunAction | WebhookAction | EmailAction;
export type ActionKind = 'run' | 'webhook' | 'email';

export function actionKind(spec: ActionSpec): ActionKind {
  if ('webhook' in spec) return 'webhook';
  if ('email' in spec) return 'email';
  return 'run';
}

/** A window of days and hours in which a response runs (ERRM's -d and -t). */
export interface ResponseWindow {
  /** "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri". */
  days?: string;
  /** "08:00" (inclusive). */
  start?: string;
  /** "18:00" (exclusive); before start: the window spans midnight. */
  end?: string;
  /** IANA zone, e.g. "Europe/Paris"; absent: UTC. */
  timeZone?: string;
}

/** A named response (ERRM's mkresponse): actions any subscription may name. */
export interface ResponseSpec {
  name: string;
  actions: ActionSpec[];
  window?: ResponseWindow;
  /** The exit code of its run actions that means success; absent: 0. */
  expectedExit?: number;
  /** Collect events into one array per run (script stdin, webhook body, one e-mail). */
  batch?: ResponseBatch;
}

export interface NamedResponse extends ResponseSpec {
  /** The node it was created on. */
  node: string;
  createdAt: string;
}

export interface SubscriptionSpec {
  name: string;
  class: string;
  expr: string;
  rearm?: string;
  /** N consecutive samples, "M of N" samples, or a duration such as "30s". */
  for?: number | string;
  where?: string;
  scope: Scope;
  order: Order;
  actions: ActionSpec[];
  /** Names of responses (POST /v1/responses) run beside the inline actions. */
  responses?: string[];
  /** Flap detection (Nagios' percent state change); absent: none. */
  flap?: { window: number; low: number; high: number };
}

export interface Subscription extends SubscriptionSpec {
  id: string;
  /** The node the subscription was created on (where its actions run). */
  node: string;
  createdAt: string;
  /** Who created it through the API: `uid:<n>` (unix socket) or `token:<name>` (TCP). */
  createdBy?: string;
  /** Absent: enabled. A disabled subscription is kept but not evaluated (RSCT's stopcondresp). */
  enabled?: boolean;
  /** Set by every PATCH: a change after a fault clears the fault, on every node. */
  updatedAt?: string;
}

/** `error`: it ran out of its evaluation budget on this node; `disabled`: `enabled` is false. */
export type SubscriptionStatus = 'active' | 'error' | 'disabled';

export interface EventRecord {
  /** `origin:seq` */
  id: string;
  origin: string;
  seq: number;
  hlc: string;
  /** Agreed events only: the 1-based index in the cluster's agreed sequence, dense and the same on every node. */
  position?: number;
  type: EventType;
  subscription: string;
  subscriptionName: string;
  class: string;
  resource: string;
  /** Where the resource lives. */
  node: string;
  /** The expression that decided this event: `expr` for an event, the rearm expression (or `expr`) for a rearm. */
  expr: string;
  attrs: Attrs;
  prev?: Attrs;
  /** ISO 8601 time of the sample that caused the event. */
  time: string;
  /** The silence that matched when the event was raised: its responses do not run. */
  silenced?: string;
  /** A crossing while its resource flaps: logged, its responses do not run (the `flapping` event said it once). */
  flapping?: boolean;
  /** An `error` event only: which expression ran out of budget, and how. */
  error?: { field: string; code: string; message: string };
}

/** What a silence matches; every matcher given must equal the event's field (subscription: its name or id). */
export interface SilenceMatchers {
  subscription?: string;
  class?: string;
  node?: string;
  resource?: string;
}

/** Alertmanager's inhibit rule: while its source holds for a node, the responses of the events it mutes do not run (audited inhibited). */
export interface InhibitRule {
  /** The source: events of this class (with attrs.state equal to `state`, of `subscription`, when given) start it; its rearm ends it. */
  when: { class: string; state?: string; subscription?: string };
  /** The targets: events about the source's node (sameNode, the default), optionally only of one class. */
  mute: { sameNode?: boolean; class?: string };
}

/** An inhibit rule made through the API (POST /v1/inhibit); replicated in a cluster. */
export interface StoredInhibitRule extends InhibitRule {
  id: string;
  comment: string;
  createdBy: string;
  /** ISO 8601. */
  createdAt: string;
  /** The node it was created on. */
  node: string;
}

/** Alertmanager's silence: while it is active, matching events are logged `silenced` and their responses do not run. */
export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  /** ISO 8601. */
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
  createdAt: string;
  /** The node it was created on. */
  node: string;
}

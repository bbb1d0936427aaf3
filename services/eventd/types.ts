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

export type EventType = 'event' | 'rearm';
export type Scope = 'local' | 'cluster' | string[];
export type Order = 'fifo' | 'agreed';

export interface ActionSpec {
  run: string;
  args?: string[];
  /** As given, e.g. "10s". */
  timeout: string;
  on: EventType[];
  /** Leave what the script started running when it exits; by default its process tree is killed then. */
  detach?: boolean;
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
}

export interface Subscription extends SubscriptionSpec {
  id: string;
  /** The node the subscription was created on (where its actions run). */
  node: string;
  createdAt: string;
  /** Who created it through the API: `uid:<n>` (unix socket) or `token:<name>` (TCP). */
  createdBy?: string;
}

export interface EventRecord {
  /** `origin:seq` */
  id: string;
  origin: string;
  seq: number;
  hlc: string;
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
}

// Response shapes of the local API: one module the routes answer with and eventctl reads (no copy on either side).
import type { Member } from '../cluster/edge/cluster-node.js';
import type { ExpressionWarning } from '../expression/index.js';
import type { Preset } from '../presets.js';
import type { InhibitRuleInfo } from '../responses/inhibit-rules.js';
import type { ActionRunReason } from '../store/action-runs.js';
import type { ActionSpec, AttributeSpec, Attrs, EventRecord, NamedResponse, Silence, Subscription, SubscriptionStatus } from '../types.js';

/** A subscription as the API lists it: with its status on this node. */
export type ListedSubscription = Subscription & { status?: SubscriptionStatus };

export interface SubscriptionList {
  subscriptions: ListedSubscription[];
}

/** Legal in jsonata but doubtful (a number used as a condition): field, position, message, pointer. */
export type ExpressionWarningInfo = ExpressionWarning;

/** POST and PATCH answers: the subscription, and what its checks found legal but doubtful. */
export type AcceptedSubscription = ListedSubscription & { warnings?: ExpressionWarningInfo[] };

/** GET /v1/subscriptions/:id: like lscondition, the subscription with why it is in error and each resource's state and errors. */
export interface SubscriptionDetail extends ListedSubscription {
  error?: { field: string; code: string; message: string; node: string; resource: string; at: string; event?: string };
  errors: number;
  states: {
    node: string;
    resource: string;
    state: 'armed' | 'fired';
    lastEvent?: string;
    errors: number;
    failing: boolean;
    lastError?: { field: string; code?: string; message: string; position?: number; at: string };
  }[];
}

export interface DeletedSubscription {
  deleted: Subscription;
}

export interface EventList {
  events: EventRecord[];
  /** More events lie after the last one listed (the list was cut at the limit); absent from older daemons. */
  more?: boolean;
}

export interface ClassInfo {
  class: string;
  description?: string;
  /** The period in use: the config's producers.<Class>.periodMs, else the manifest's. */
  periodMs: number;
  /** The manifest's default, when the config sets another. */
  defaultPeriodMs?: number;
  attributes: Record<string, AttributeSpec>;
  awake: boolean;
}

export interface ClassList {
  classes: ClassInfo[];
}

export interface ResourceInfo {
  class: string;
  resource: string;
  node: string;
  /** ISO 8601 time of the latest sample. */
  time: string;
  attrs: Attrs;
}

export interface ResourceList {
  resources: ResourceInfo[];
}

export type ActionRunStatus = 'pending' | 'running' | 'retrying' | 'ok' | 'failed' | 'timeout' | 'skipped';

export interface ActionRunInfo {
  id: number | string;
  eventId: string;
  subscription: string;
  actionIndex: number;
  response?: string | null;
  spec: ActionSpec;
  status: ActionRunStatus;
  attempt: number;
  exitCode: number | null;
  signal: string | null;
  httpStatus?: number | null;
  smtpReply?: string | null;
  error: string | null;
  reason?: ActionRunReason | null;
  detail?: string | null;
  node?: string | null;
  nextAt?: string | null;
  attempts?: { attempt: number; status: string; startedAt: string | null; endedAt: string | null; exitCode: number | null; httpStatus: number | null; smtpReply: string | null; error: string | null }[];
  stdout: string | null;
  stderr: string | null;
  /** ISO 8601 strings. */
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface ResponseList {
  responses: NamedResponse[];
}

export interface SilenceList {
  silences: (Silence & { state: 'pending' | 'active' | 'expired' })[];
}

export interface InhibitRuleList {
  rules: InhibitRuleInfo[];
}

export interface ActionRunList {
  actions: ActionRunInfo[];
}

export interface DaemonStatus {
  node: string;
  version: string;
  uptimeS: number;
  subscriptions: number;
  producersAwake: string[];
  events: { count: number; lastId: string | null };
  actions: { pending: number; running: number; retrying: number };
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export type { Preset };

export interface PresetList {
  presets: readonly Preset[];
}

export interface MemberList {
  view: string[];
  /** With each member's tags as this node knows them. */
  members: (Member & { tags?: Record<string, string> })[];
}

/** One failover group as GET /v1/groups shows it (the failover consumer builds it through the SDK). */
export interface GroupStatus {
  name: string;
  owner: string | null;
  target: string | null;
  /** Why the group is placed nowhere, or waits for the groups it runs after; absent when neither. */
  why?: string;
  /** This node's state of the group. */
  local: string;
  /** false while unmanaged (or the cluster is in maintenance): no script runs, state is still reported. */
  managed: boolean;
  /** Live operator moves and bans, with their expiry. */
  constraints: { kind: 'move' | 'ban'; node: string; expiresAt: number | null }[];
  /** Fail counts per node (within failureTimeout). */
  failures: Record<string, number>;
  /** Each node's last report of the group, and the event that said it. */
  reports: { node: string; state: string; reason?: string; time: string; eventId: string; inView: boolean }[];
}

export interface GroupList {
  groups: GroupStatus[];
  maintenance: boolean;
  standby: string[];
}

// The wire messages of the cluster core: a discriminated union of plain,
// JSON-serialisable objects. The edge encrypts/authenticates them (AES-GCM) and
// maps node names to addresses; the core never sees bytes or addresses, except
// the seed addresses a joining node sends its first `join` to.
//
// Every frame names its sender and the sender's incarnation, so any frame
// (not only a heartbeat) proves the sender alive, and frames of an incarnation
// that was declared down can be told apart from the rejoined node's.

import type { Order } from '../../types.js';
import type { Decision, Epoch } from './decisions.js';
import type { BeatAck } from './lease.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One event as the cluster carries it; the edge's EventRecord is its payload. `id` is `origin:seq`. */
export interface ClusterEvent {
  origin: string;
  /** Per-origin sequence number, 1, 2, 3, ... with no gaps; persisted by the origin before the event is announced. */
  seq: number;
  /** HLC time (hlc.ts `format`), strictly increasing with seq at one origin. */
  hlc: string;
  order: Order;
  payload: Json;
}

/**
 * "Every event of `origin` after `seq` has an HLC above `hlc`": the origin's
 * clock and latest seq at one moment. Whoever holds the origin's events up
 * to `seq` may use `hlc` as the origin's floor; claims are facts about the
 * origin, so any node may relay them.
 */
export interface FloorClaim {
  hlc: string;
  seq: number;
}

export interface ProgressEntry {
  origin: string;
  /** The sender holds every event of `origin` up to here (contiguous). */
  seq: number;
  /** The best floor claim the sender knows for `origin`. */
  claim?: FloorClaim;
}

export interface MemberRef {
  name: string;
  incarnation: number;
}

/** Last-writer-wins version: HLC of the write, ties broken by the writing node. */
export interface Version {
  hlc: string;
  node: string;
}

/** A replicated subscription, or its tombstone (`value: null`). */
export interface SubscriptionEntry {
  id: string;
  version: Version;
  value: Json | null;
}

interface FrameHeader {
  from: string;
  incarnation: number;
}

export interface HeartbeatFrame extends FrameHeader {
  type: 'heartbeat';
  /** The sender's own floor claim: its clock now and its latest seq. */
  hlc: string;
  seq: number;
  /** Anti-entropy digest: per origin, what the sender holds, with the best claim it knows. */
  progress: ProgressEntry[];
  /** The sender's current view; the members it declared down (with the incarnation declared down); the others it knows of. */
  view: MemberRef[];
  down: MemberRef[];
  joining: MemberRef[];
  /** The sender's suspicion report: whom it heard within suspectAfterMs, and whom it has not. */
  reach: MemberRef[];
  unreach: string[];
  /** Hash of the sender's subscription map; a mismatch starts a digest exchange. */
  subs: string;
  /** This heartbeat's number within the sender's incarnation, and the highest beat it heard from each peer (lease.ts). */
  beat?: number;
  acks?: BeatAck[];
  /** The sender's committed prefix of agreed positions (sequencer.ts): a node behind pulls decisions. */
  committed?: number;
  /** Hash of the sender's configured node set (cluster.peers and itself): differing sets are logged. */
  configured?: string;
}

/**
 * The answer to a heartbeat, sent at once on receipt: "I heard your beat
 * `ack.beat`". The same ack rides in the receiver's next heartbeat too, but
 * that leaves up to a heartbeat later; answering at once keeps the age of a
 * holder's lease (lease.ts) about one round trip instead of one heartbeat
 * plus one round trip, so a loaded node keeps its lease through longer lags.
 */
export interface AckFrame extends FrameHeader {
  type: 'ack';
  ack: BeatAck;
}

/** Sent by a node that knows no peer yet, to its seed addresses. */
export interface JoinFrame extends FrameHeader {
  type: 'join';
}

/** A push of new events by their origin, or a reply to a pull (from any holder). */
export interface EventsFrame extends FrameHeader {
  type: 'events';
  events: ClusterEvent[];
}

/** Asks for the events of `origin` with fromSeq <= seq <= toSeq. */
export interface PullFrame extends FrameHeader {
  type: 'pull';
  origin: string;
  fromSeq: number;
  toSeq: number;
}

export interface SubscriptionDigestFrame extends FrameHeader {
  type: 'subs-digest';
  versions: { id: string; version: Version }[];
}

/** Entries the receiver lacks or holds older, and the ids the sender wants back. */
export interface SubscriptionsFrame extends FrameHeader {
  type: 'subs';
  entries: SubscriptionEntry[];
  want: string[];
}

/**
 * The answer to a join: what the sender knows of the joiner `about`, so a
 * joiner that lost its store resumes above it (identity-recovery.ts).
 */
export interface IdentityFrame extends FrameHeader {
  type: 'identity';
  about: string;
  /** The highest incarnation of `about` the sender knows; -1 when it never heard of it. */
  known: number;
  /** The sender holds every event of `about` up to this seq. */
  held: number;
  /** The HLC of the newest of them, or of the best floor claim known for `about`. */
  hlc?: string;
}

/** A sequencer opening `epoch` asks for promises and for the log above its committed point `above` (sequencer.ts). */
export interface PrepareFrame extends FrameHeader {
  type: 'prepare';
  epoch: Epoch;
  above: number;
}

/** The answer to a prepare: refused (`ok` false, a newer epoch was promised) or the promiser's log tail above `above`. */
export interface PromiseFrame extends FrameHeader {
  type: 'promise';
  epoch: Epoch;
  ok: boolean;
  promised: Epoch | null;
  above: number;
  last: number;
  lastEpoch: Epoch | null;
  committed: number;
  tail: Decision[];
  /** The tail did not fit: the log reaches further above `above`. */
  more: boolean;
  /** The promiser holds the event of every decision of its log above its committed point up to here. */
  heldThrough: number;
}

/** The sequencer's decisions after position `prev` (whose epoch must match), and its committed point. */
export interface AppendFrame extends FrameHeader {
  type: 'append';
  epoch: Epoch;
  prev: number;
  prevEpoch: Epoch | null;
  entries: Decision[];
  committed: number;
}

/** A follower persisted the sequencer's log up to `match`; or refused (`ok` false: `match` is its committed point). */
export interface AppendedFrame extends FrameHeader {
  type: 'appended';
  epoch: Epoch;
  ok: boolean;
  promised: Epoch | null;
  match: number;
}

/** Asks any node for committed decisions from `position` on. */
export interface DecisionsPullFrame extends FrameHeader {
  type: 'decisions-pull';
  position: number;
}

/** Committed decisions (final everywhere), in position order. */
export interface DecisionsFrame extends FrameHeader {
  type: 'decisions';
  entries: Decision[];
  committed: number;
}

export type OrderFrame = PrepareFrame | PromiseFrame | AppendFrame | AppendedFrame | DecisionsPullFrame | DecisionsFrame;

export type Frame = OrderFrame | HeartbeatFrame | AckFrame | JoinFrame | EventsFrame | PullFrame | SubscriptionDigestFrame | SubscriptionsFrame | IdentityFrame;

// --- validation of frames from the network -------------------------------
// The edge has authenticated the frame, but a peer of another version (or a
// bug) may still send a bad shape; the core must never throw on one.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHlc = (v: unknown): v is string => typeof v === 'string' && /^\d+\.\d+$/.test(v);
const isArr = <T>(v: unknown, each: (x: unknown) => x is T): v is T[] => Array.isArray(v) && v.every(each);

const isRef = (v: unknown): v is MemberRef => isObj(v) && isStr(v.name) && isNat(v.incarnation);
const isAck = (v: unknown): v is BeatAck => isObj(v) && isStr(v.name) && isNat(v.incarnation) && isNat(v.beat);
const isClaim = (v: unknown): v is FloorClaim => isObj(v) && isHlc(v.hlc) && isNat(v.seq);
const isProgress = (v: unknown): v is ProgressEntry =>
  isObj(v) && isStr(v.origin) && isNat(v.seq) && (v.claim === undefined || isClaim(v.claim));
const isVersion = (v: unknown): v is Version => isObj(v) && isHlc(v.hlc) && isStr(v.node);
const isEntry = (v: unknown): v is SubscriptionEntry =>
  isObj(v) && isStr(v.id) && isVersion(v.version) && v.value !== undefined;

export function isClusterEvent(v: unknown): v is ClusterEvent {
  return isObj(v) && isStr(v.origin) && isNat(v.seq) && v.seq > 0 && isHlc(v.hlc)
    && (v.order === 'fifo' || v.order === 'agreed') && v.payload !== undefined;
}

// Each guard narrows an object already known to carry the header to its frame type.
type Headed = Obj & FrameHeader;
const isHeartbeat = (v: Headed): v is Headed & HeartbeatFrame =>
  v.type === 'heartbeat' && isHlc(v.hlc) && isNat(v.seq) && isArr(v.progress, isProgress) && isArr(v.view, isRef)
  && isArr(v.down, isRef) && isArr(v.joining, isRef) && isArr(v.reach, isRef) && isArr(v.unreach, isStr) && typeof v.subs === 'string'
  && (v.beat === undefined || isNat(v.beat)) && (v.acks === undefined || isArr(v.acks, isAck))
  && (v.committed === undefined || isNat(v.committed)) && (v.configured === undefined || typeof v.configured === 'string');
const isAckFrame = (v: Headed): v is Headed & AckFrame => v.type === 'ack' && isAck(v.ack);
const isJoin = (v: Headed): v is Headed & JoinFrame => v.type === 'join';
const isEvents = (v: Headed): v is Headed & EventsFrame => v.type === 'events' && isArr(v.events, isClusterEvent);
const isPull = (v: Headed): v is Headed & PullFrame => v.type === 'pull' && isStr(v.origin) && isNat(v.fromSeq) && isNat(v.toSeq);
const isDigest = (v: Headed): v is Headed & SubscriptionDigestFrame =>
  v.type === 'subs-digest' && isArr(v.versions, (x): x is { id: string; version: Version } => isObj(x) && isStr(x.id) && isVersion(x.version));
const isSubs = (v: Headed): v is Headed & SubscriptionsFrame => v.type === 'subs' && isArr(v.entries, isEntry) && isArr(v.want, isStr);
const isIdentity = (v: Headed): v is Headed & IdentityFrame =>
  v.type === 'identity' && isStr(v.about) && typeof v.known === 'number' && Number.isSafeInteger(v.known) && v.known >= -1 && isNat(v.held)
  && (v.hlc === undefined || isHlc(v.hlc));
const isEpoch = (v: unknown): v is Epoch => isObj(v) && isNat(v.n) && isStr(v.leader);
const isEpochOrNull = (v: unknown): v is Epoch | null => v === null || isEpoch(v);
const isNames = (v: unknown): v is string[] => isArr(v, isStr);
const isDecision = (v: unknown): v is Decision => isObj(v) && isNat(v.position) && v.position > 0 && isEpoch(v.epoch)
  && ((v.kind === 'event' && isStr(v.origin) && isNat(v.seq) && v.seq > 0)
    || (v.kind === 'view' && isNames(v.members) && isNames(v.joined) && isNames(v.left) && isHlc(v.hlc)));
const isPrepare = (v: Headed): v is Headed & PrepareFrame => v.type === 'prepare' && isEpoch(v.epoch) && isNat(v.above);
const isPromise = (v: Headed): v is Headed & PromiseFrame => v.type === 'promise' && isEpoch(v.epoch) && typeof v.ok === 'boolean'
  && isEpochOrNull(v.promised) && isNat(v.above) && isNat(v.last) && isEpochOrNull(v.lastEpoch) && isNat(v.committed)
  && isArr(v.tail, isDecision) && typeof v.more === 'boolean' && isNat(v.heldThrough);
const isAppend = (v: Headed): v is Headed & AppendFrame => v.type === 'append' && isEpoch(v.epoch) && isNat(v.prev)
  && isEpochOrNull(v.prevEpoch) && isArr(v.entries, isDecision) && isNat(v.committed);
const isAppended = (v: Headed): v is Headed & AppendedFrame => v.type === 'appended' && isEpoch(v.epoch) && typeof v.ok === 'boolean'
  && isEpochOrNull(v.promised) && isNat(v.match);
const isDecisionsPull = (v: Headed): v is Headed & DecisionsPullFrame => v.type === 'decisions-pull' && isNat(v.position) && v.position > 0;
const isDecisions = (v: Headed): v is Headed & DecisionsFrame => v.type === 'decisions' && isArr(v.entries, isDecision) && isNat(v.committed);
const frameGuards = [isHeartbeat, isAckFrame, isJoin, isEvents, isPull, isDigest, isSubs, isIdentity, isPrepare, isPromise, isAppend, isAppended, isDecisionsPull, isDecisions] as const;

/** The frame, if `value` (parsed JSON) has a frame's shape; undefined otherwise. */
export function parseFrame(value: unknown): Frame | undefined {
  if (!isObj(value) || !isStr(value.from) || !isNat(value.incarnation)) return undefined;
  const headed: Headed = { ...value, from: value.from, incarnation: value.incarnation };
  for (const guard of frameGuards) if (guard(headed)) return headed;
  return undefined;
}

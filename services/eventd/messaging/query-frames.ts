// The three frame kinds of a query (Serf's query, ack, response) as they
// travel inside the cluster's sealed envelope. They are additive: the core's
// parseFrame knows none of them, and the edge hands them to the query
// service instead of the core (cluster/edge/cluster-node.ts). A peer's frame
// is checked here, field by field, never cast.
import type { Json } from '../cluster/core/frames.js';
import type { Tags } from './tags.js';

/** The bounds of a query, in one place. */
export const queryBounds = {
  /** Like Serf's: a query waits at most a minute for its answers. */
  maxTimeoutMs: 60_000,
  /** A payload rides in one datagram with the rest of the frame: 16 KiB leaves room for JSON escaping and the seal. */
  maxPayloadBytes: 16 * 1024,
  /** A handler's stdout kept as its answer (the rest is dropped and the answer flagged truncated). */
  maxOutputBytes: 8 * 1024,
  /** Handlers of received queries running at once on one node; more are answered `busy`. */
  maxRunning: 16,
} as const;

export const queryFrameKinds: ReadonlySet<string> = new Set(['query', 'query-ack', 'query-answer']);
/** A query runs a handler: received only once its replay high-water is durable. An ack or answer replayed finds no open query. */
export const committedQueryFrameKinds: ReadonlySet<string> = new Set(['query']);

export interface QueryFrame {
  type: 'query';
  from: string;
  id: string;
  name: string;
  payload: string;
  /** Only nodes whose own tags hold each of these run it. */
  tags: Tags;
  /** The nodes the asker named; null: every node. */
  nodes: string[] | null;
  timeoutMs: number;
}

export interface QueryAckFrame {
  type: 'query-ack';
  from: string;
  id: string;
}

/** Why a node gave no output: its handler failed to start or was killed, it has none for the name, or too many ran. */
export type QueryFailure = 'failed' | 'timeout' | 'no-handler' | 'busy';

export interface QueryAnswerFrame {
  type: 'query-answer';
  from: string;
  id: string;
  output: string;
  /** The output was cut (at maxOutputBytes, or to fit one datagram). */
  truncated: boolean;
  exitCode: number | null;
  /** Present when the handler did not answer normally. */
  failure?: QueryFailure;
  message?: string;
}

/** What a handler's run gives: an answer frame's content. */
export type HandlerAnswer = Omit<QueryAnswerFrame, 'type' | 'from' | 'id'>;

export type QueryWireFrame = QueryFrame | QueryAckFrame | QueryAnswerFrame;

type JsonObject = { [key: string]: Json | undefined };
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string';
const isName = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;
const failures: ReadonlySet<string> = new Set<QueryFailure>(['failed', 'timeout', 'no-handler', 'busy']);
const isFailure = (value: unknown): value is QueryFailure => typeof value === 'string' && failures.has(value);

function tagsOf(value: unknown): Tags | undefined {
  if (!isObject(value)) return undefined;
  const tags: Tags = {};
  for (const [name, tag] of Object.entries(value)) {
    if (typeof tag !== 'string') return undefined;
    tags[name] = tag;
  }
  return tags;
}

function nodesOf(value: unknown): string[] | null | undefined {
  if (value === null) return null;
  return Array.isArray(value) && value.every(isName) ? value.slice() : undefined;
}

/** A received body as a query frame, or undefined when it is none (or malformed). */
export function parseQueryFrame(body: unknown): QueryWireFrame | undefined {
  if (!isObject(body) || !isName(body['from']) || !isName(body['id'])) return undefined;
  const from = body['from'];
  const id = body['id'];
  switch (body['type']) {
    case 'query': {
      const { name, payload, timeoutMs } = body;
      const tags = tagsOf(body['tags']);
      const nodes = nodesOf(body['nodes']);
      if (!isName(name) || !isText(payload) || tags === undefined || nodes === undefined) return undefined;
      if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > queryBounds.maxTimeoutMs) return undefined;
      return { type: 'query', from, id, name, payload, tags, nodes, timeoutMs };
    }
    case 'query-ack':
      return { type: 'query-ack', from, id };
    case 'query-answer': {
      const { output, truncated, exitCode, failure, message } = body;
      if (!isText(output) || typeof truncated !== 'boolean') return undefined;
      if (exitCode !== null && !(typeof exitCode === 'number' && Number.isInteger(exitCode))) return undefined;
      if (failure !== undefined && !isFailure(failure)) return undefined;
      if (message !== undefined && !isText(message)) return undefined;
      return { type: 'query-answer', from, id, output, truncated, exitCode, ...(failure === undefined ? {} : { failure }), ...(message === undefined ? {} : { message }) };
    }
    default:
      return undefined;
  }
}

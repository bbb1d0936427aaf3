// The body of POST /v1/queries, checked field by field: every refusal is a
// 400 naming the field (EVENTD_ERR_BAD_QUERY), before anything is sent.
import { parseDuration } from '../duration.js';
import { EventdError } from '../errors.js';
import { queryBounds } from './query-frames.js';
import { tagFilter, type Tags } from './tags.js';

/** Where a query goes: every node, this one only, or the nodes named. */
export type QueryScope = 'cluster' | 'local' | string[];

export interface QueryRequest {
  name: string;
  payload: string;
  scope: QueryScope;
  tags: Tags;
  timeoutMs: number;
}

/** The names a config's queries.<name> takes (schemas/config.schema.json). */
const queryName = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
/** A node's name (schemas/config.schema.json `node`). */
const nodeName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const maxScopeNodes = 1024;
const fields = ['name', 'payload', 'scope', 'tags', 'timeout'];

export function parseQueryRequest(body: unknown): QueryRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'must be a JSON object { name, timeout, payload?, scope?, tags? }');
  const input: Record<string, unknown> = { ...body };
  const unknown = Object.keys(input).find((field) => !fields.includes(field));
  if (unknown !== undefined) throw bad(unknown, `unknown field (a query takes ${fields.join(', ')})`);
  const name = input['name'];
  if (typeof name !== 'string' || !queryName.test(name)) throw bad('name', 'a query name is a letter then letters, digits, _ . - (at most 128), as under queries.<name> in config');
  return { name, payload: payloadOf(input['payload']), scope: scopeOf(input['scope']), tags: input['tags'] === undefined ? {} : tagsOf(input['tags']), timeoutMs: timeoutOf(input['timeout']) };
}

function payloadOf(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw bad('payload', 'a string (the handler reads it on stdin)');
  const bytes = Buffer.byteLength(value);
  if (bytes > queryBounds.maxPayloadBytes) throw bad('payload', `${bytes} bytes; at most ${queryBounds.maxPayloadBytes} (a query travels in one datagram)`);
  return value;
}

function scopeOf(value: unknown): QueryScope {
  if (value === undefined || value === 'cluster') return 'cluster';
  if (value === 'local') return 'local';
  if (!Array.isArray(value)) throw bad('scope', '"cluster", "local" or a list of node names');
  if (value.length === 0 || value.length > maxScopeNodes) throw bad('scope', `a list of 1 to ${maxScopeNodes} node names`);
  value.forEach((node: unknown, index) => {
    if (typeof node !== 'string' || !nodeName.test(node)) throw bad(`scope[${index}]`, 'a node name: a letter or digit, then letters, digits, . _ -');
  });
  return [...new Set(value.map(String))];
}

function tagsOf(value: unknown): Tags {
  try {
    return tagFilter(value, 'tags');
  } catch (error) {
    if (error instanceof EventdError) throw bad(fieldOf(error) ?? 'tags', error.message.replace(/^[^:]*: /, ''));
    throw error;
  }
}

function timeoutOf(value: unknown): number {
  if (value === undefined) throw bad('timeout', `required: how long to wait for answers, e.g. "2s" or 2000 (ms), at most ${queryBounds.maxTimeoutMs / 1000}s`);
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw bad('timeout', 'milliseconds, a whole number');
    ms = value;
  } else if (typeof value === 'string') {
    try {
      ms = parseDuration(value, 'timeout');
    } catch (error) {
      throw bad('timeout', error instanceof Error ? error.message.replace(/^timeout: /, '') : String(error));
    }
  } else {
    throw bad('timeout', 'a duration ("2s", "500ms") or milliseconds');
  }
  if (ms < 1 || ms > queryBounds.maxTimeoutMs) throw bad('timeout', `${ms} ms; between 1 ms and ${queryBounds.maxTimeoutMs / 1000}s`);
  return ms;
}

function fieldOf(error: EventdError): string | undefined {
  const field = error.details?.['field'];
  return typeof field === 'string' ? field : undefined;
}

function bad(field: string, message: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_QUERY', `${field}: ${message}`, { field });
}

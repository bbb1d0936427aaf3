// `events --follow`: read the Server-Sent Events stream and keep reading across
// disconnects. Invariant: Last-Event-ID is always the id of the last event
// handed to `onEvent`, so a reconnect neither misses nor repeats an event
// (a message cut off mid-way was never handed on, and is sent again).
import { createParser } from 'eventsource-parser';
import type { EventRecord } from '../types.js';
import type { EventdClient, Query } from './client.js';
import { ApiError, CliError, UnreachableError } from './errors.js';

export const backoff = { initialMs: 250, maxMs: 5_000 } as const;

/** Ids remembered to drop a repeat should a server resend one (the protocol says it must not). */
const recentIdsKept = 1_000;

export interface FollowOptions {
  client: EventdClient;
  query: Query;
  /** Resume after this event id. */
  since: string | undefined;
  signal: AbortSignal;
  onEvent: (event: EventRecord) => void;
  /** Progress for people (lost connection, reconnected); goes to stderr. */
  onNotice: (message: string) => void;
}

/** Returns when `signal` aborts; throws on errors a retry cannot fix (no daemon at first contact, a 4xx answer). */
export async function follow(options: FollowOptions): Promise<void> {
  let lastId = options.since;
  const recent = new RecentIds(recentIdsKept);
  await keepReading({
    client: options.client,
    path: '/v1/events/stream',
    query: options.query,
    signal: options.signal,
    stream: 'event stream',
    resumeAfter: () => lastId,
    onNotice: options.onNotice,
    onMessage: (id, data) => {
      const event = parseEvent(data);
      if (event === undefined) return options.onNotice(`ignored a stream message that is not an event: ${data.slice(0, 200)}`);
      const eventId = id ?? event.id;
      if (eventId !== undefined && recent.has(eventId)) return;
      options.onEvent(event);
      if (eventId !== undefined) {
        recent.add(eventId);
        lastId = eventId;
      }
    },
  });
}

export interface StreamReader {
  client: EventdClient;
  path: string;
  query: Query;
  signal: AbortSignal;
  /** What the stream is called in notices ("event stream"). */
  stream: string;
  /** Said after "reconnected to eventd at ...", e.g. what a live stream lost meanwhile. */
  reconnectedNote?: string;
  /** The Last-Event-ID to resume after, asked before each connection (undefined: a live stream, from now). */
  resumeAfter?: () => string | undefined;
  onMessage: (id: string | undefined, data: string) => void;
  onNotice: (message: string) => void;
}

/**
 * Reads an SSE stream until `signal` aborts, reconnecting with a doubling
 * delay (reset by every message) after a lost stream; one notice when it is
 * lost and one when it is back. Throws on what a retry cannot change: no
 * daemon at the first contact, a 4xx answer (bad filter, unknown id, token).
 */
export async function keepReading(reader: StreamReader): Promise<void> {
  const { client, signal } = reader;
  let delayMs: number = backoff.initialMs;
  let everConnected = false;
  let outage: string | undefined;
  while (!signal.aborted) {
    let reason: string;
    try {
      const response = await client.openStream(reader.path, reader.query, reader.resumeAfter?.(), signal);
      everConnected = true;
      if (outage !== undefined) reader.onNotice(`reconnected to eventd at ${client.api}${reader.reconnectedNote === undefined ? '' : `; ${reader.reconnectedNote}`}`);
      outage = undefined;
      await readStream(response, signal, (id, data) => {
        delayMs = backoff.initialMs; // the stream is healthy again
        reader.onMessage(id, data);
      });
      reason = 'the stream ended';
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof UnreachableError && !everConnected) throw error;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
      reason = describe(error);
    }
    if (signal.aborted) return;
    if (outage === undefined) reader.onNotice(`lost the ${reader.stream} (${reason}); reconnecting`);
    outage = reason;
    await sleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, backoff.maxMs);
  }
}

export async function readStream(response: Response, signal: AbortSignal, onMessage: (id: string | undefined, data: string) => void): Promise<void> {
  if (response.body === null) return;
  // A fresh parser per connection: a half-received message is dropped, never glued to the next stream.
  const parser = createParser({ onEvent: (message) => onMessage(message.id, message.data) });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** undici reports a dropped body as "terminated"; the cause says why. */
export function describe(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}

function parseEvent(data: string): EventRecord | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as EventRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A bounded set of the most recently added ids. */
class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }
}

// A client of GET /v1/events/stream that keeps every event it was sent, in
// order, until it is stopped or the daemon goes away.
import { createParser } from 'eventsource-parser';
import type { EventRecord } from '../../services/eventd/types.js';

export interface EventStreamClient {
  /** Every event received, in the order it came. */
  readonly received: EventRecord[];
  /** Resolves when the stream ended (daemon gone, or stopped): with the error that ended it, if any. */
  readonly ended: Promise<unknown>;
  stop(): Promise<void>;
}

export function followEvents(url: string, headers: Record<string, string> = {}): EventStreamClient {
  const controller = new AbortController();
  const received: EventRecord[] = [];
  const parser = createParser({ onEvent: (message) => received.push(JSON.parse(message.data) as EventRecord) });
  const ended = (async (): Promise<unknown> => {
    const response = await fetch(`${url}/v1/events/stream`, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (response.status !== 200 || !response.body) throw new Error(`GET /v1/events/stream: ${response.status}`);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })().catch((error: unknown) => error);
  return {
    received,
    ended,
    stop: async () => { controller.abort(); await ended; },
  };
}

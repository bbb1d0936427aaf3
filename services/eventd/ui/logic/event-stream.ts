import { createParser } from 'eventsource-parser';
import type { ConsoleEvent } from './types.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'stopped';

export interface EventStreamOptions {
  /** The stream's URL (the console's: /ui/v1/events/stream?tail=...). */
  url: string;
  onEvent(event: ConsoleEvent): void;
  onState(state: StreamState, detail?: string): void;
  /** Called each time the stream (re)opens, before any event of it: panels refetch what they show. */
  onOpen?(): void;
  fetch?: typeof fetch;
  /** First retry delay; doubles per failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A stream silent this long is taken as dead (the daemon sends a heartbeat every 15 s). */
  silenceMs?: number;
}

/**
 * The page's one SSE connection. Over fetch rather than EventSource so it can
 * tell a 401 (show the prompt, stop) from a daemon that is away (retry with
 * backoff, resuming with Last-Event-ID: the daemon sends exactly the events
 * after it).
 */
export class EventStream {
  private lastEventId: string | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: EventStreamOptions) {}

  get lastId(): string | undefined {
    return this.lastEventId;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    this.options.onState('stopped');
  }

  private async connect(): Promise<void> {
    const { options } = this;
    const doFetch = options.fetch ?? fetch;
    this.abort = new AbortController();
    const abort = this.abort;
    options.onState(this.failures === 0 && this.lastEventId === undefined ? 'connecting' : 'reconnecting');
    let silence: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), options.silenceMs ?? 45_000);
    };
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
      const response = await doFetch(options.url, { headers, signal: abort.signal, credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 401) {
        this.stopped = true;
        options.onState('unauthorized');
        return;
      }
      // The last id was pruned (or belongs to a wiped store): start over from the tail rather than retry forever.
      if (response.status === 404) this.lastEventId = undefined;
      if (!response.ok || response.body === null) throw new Error(`the daemon answered ${response.status}`);
      this.failures = 0;
      options.onOpen?.();
      options.onState('live');
      const parser = createParser({
        onEvent: (message) => {
          if (message.id !== undefined) this.lastEventId = message.id;
          if (message.data === '') return;
          options.onEvent(JSON.parse(message.data) as ConsoleEvent);
        },
        onComment: () => undefined,
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      watch();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        watch();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      if (this.stopped) return;
      this.failures++;
      options.onState('reconnecting', error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(silence);
    }
    if (this.stopped) return;
    this.failures = Math.max(this.failures, 1);
    options.onState('reconnecting');
    const delay = Math.min((options.retryMs ?? 500) * 2 ** (this.failures - 1), options.maxRetryMs ?? 5_000);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

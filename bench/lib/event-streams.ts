// The benchmark's view of a cluster: one Server-Sent Events stream per node
// (GET /v1/events/stream), every event stamped with performance.now() in
// this process when its chunk arrived, so arrival times on different nodes
// are on one clock.
import { get, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { EventRecord } from '../../services/eventd/types.js';

export interface Arrival {
  /** The node whose stream delivered it. */
  node: string;
  /** performance.now() when its chunk was read. */
  at: number;
  event: EventRecord;
}

export class EventStreams {
  /** Every first arrival of an event on a node, in arrival order. */
  readonly arrivals: Arrival[] = [];
  private readonly byId = new Map<string, Map<string, number>>();
  private readonly requests = new Map<string, ClientRequest>();
  private readonly lastId = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  malformed = 0;

  /** Requests that failed or answered other than 200, as "node: reason". */
  readonly errors: string[] = [];

  /**
   * Opens `node`'s stream. A reconnect sends Last-Event-ID, so the node's
   * log is not replayed. Nothing waits for the response: the daemon sends
   * its headers only with the first event or heartbeat (up to 30 s later),
   * and resuming after the last event seen misses nothing anyway.
   */
  connect(node: string, url: string, auth: Record<string, string> = {}): void {
    this.disconnect(node);
    const headers: Record<string, string> = { accept: 'text/event-stream', ...auth };
    const last = this.lastId.get(node);
    if (last !== undefined) headers['last-event-id'] = last;
    const request = get(`${url}/v1/events/stream`, { headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        this.errors.push(`${node}: GET /v1/events/stream answered ${response.statusCode}`);
        return;
      }
      let at = 0;
      const parser = createParser({ onEvent: (message) => this.arrive(node, at, message) });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        at = performance.now();
        parser.feed(chunk);
      });
      response.on('error', () => {}); // a killed node ends its stream; that is expected here
    });
    request.on('error', (error) => {
      if (this.requests.get(node) === request) this.errors.push(`${node}: ${error.message}`);
    });
    this.requests.set(node, request);
  }

  disconnect(node: string): void {
    const request = this.requests.get(node);
    this.requests.delete(node);
    request?.destroy();
  }

  closeAll(): void {
    for (const node of [...this.requests.keys()]) this.disconnect(node);
  }

  /** node -> arrival time of event `id`, for the nodes that delivered it. */
  seen(id: string): ReadonlyMap<string, number> | undefined {
    return this.byId.get(id);
  }

  /** The first arrival at index `from` or later that `match` accepts. */
  find(from: number, match: (arrival: Arrival) => boolean): Arrival | undefined {
    for (let i = from; i < this.arrivals.length; i++) {
      if (match(this.arrivals[i]!)) return this.arrivals[i];
    }
    return undefined;
  }

  /** Resolves with what `check` returns once it is not undefined, re-checked on every arrival. */
  until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value === undefined) return;
        finish();
        resolve(value);
      };
      function finish() {
        clearTimeout(timer);
        waiters.delete(attempt);
      }
      const waiters = this.waiters;
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });
  }

  private arrive(node: string, at: number, message: EventSourceMessage): void {
    let event: EventRecord;
    try {
      event = JSON.parse(message.data) as EventRecord;
    } catch {
      this.malformed++;
      return;
    }
    if (message.id !== undefined) this.lastId.set(node, message.id);
    let nodes = this.byId.get(event.id);
    if (!nodes) this.byId.set(event.id, (nodes = new Map()));
    if (nodes.has(node)) return;
    nodes.set(node, at);
    this.arrivals.push({ node, at, event });
    for (const waiter of [...this.waiters]) waiter();
  }
}

export function isNodeDown(arrival: Arrival, resource?: string): boolean {
  const { event } = arrival;
  return event.class === 'Node' && event.attrs['state'] === 'down' && (resource === undefined || event.resource === resource);
}

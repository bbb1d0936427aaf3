import type { ConsoleEvent } from './types.js';

export interface EventFilter {
  class?: string;
  node?: string;
  subscription?: string;
  type?: 'event' | 'rearm';
}

export function matches(event: ConsoleEvent, filter: EventFilter): boolean {
  return (
    (filter.class === undefined || event.class === filter.class) &&
    (filter.node === undefined || event.node === filter.node) &&
    (filter.subscription === undefined || event.subscription === filter.subscription || event.subscriptionName === filter.subscription) &&
    (filter.type === undefined || event.type === filter.type)
  );
}

/**
 * The events the page holds, newest first, at most `limit`. An id seen before
 * is refused: a stream resumed after a restart may repeat the last event it
 * had sent, and a row must never show twice.
 */
export class EventList {
  private readonly items: ConsoleEvent[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly limit = 1000) {}

  /** False for an id already held. */
  add(event: ConsoleEvent): boolean {
    if (this.ids.has(event.id)) return false;
    this.ids.add(event.id);
    this.items.unshift(event);
    while (this.items.length > this.limit) {
      const dropped = this.items.pop();
      if (dropped) this.ids.delete(dropped.id);
    }
    return true;
  }

  get size(): number {
    return this.items.length;
  }

  /** Newest first. */
  list(filter: EventFilter = {}): ConsoleEvent[] {
    return this.items.filter((event) => matches(event, filter));
  }

  get(id: string): ConsoleEvent | undefined {
    return this.items.find((event) => event.id === id);
  }

  /** The distinct values of one field, sorted: what a filter's picker offers. */
  values(field: 'class' | 'node' | 'subscriptionName'): string[] {
    return [...new Set(this.items.map((event) => event[field]))].sort();
  }
}

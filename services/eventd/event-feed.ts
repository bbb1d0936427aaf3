import { EventEmitter } from 'node:events';
import type { EventRecord } from './types.js';

export interface FeedItem {
  /** Delivery position in this node's event log. */
  pos: number;
  event: EventRecord;
}

interface FeedEvents {
  events: [FeedItem[]];
}

/** Committed events, in delivery order, for live readers (SSE streams, consumers). */
export class EventFeed extends EventEmitter<FeedEvents> {
  constructor() {
    super();
    // Each SSE client adds a listener; they are many by design.
    this.setMaxListeners(0);
  }

  publish(items: FeedItem[]): void {
    if (items.length > 0) this.emit('events', items);
  }
}

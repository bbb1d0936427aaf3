// Frames the cluster core does not know (a query and its ack and answer,
// messaging/query-frames.ts): authenticated, sealed and replay-checked by the
// same transport as every frame, their high-water committed with the batch
// they arrived in, then handed to their channel. The core never sees them:
// they are requests, not facts, and take no part in ordering.
import type { Frame } from '../core/frames.js';
import type { ReceivedFrame } from './udp-transport.js';

export interface MessageChannel {
  /** The frame types (`type` field) this channel takes. */
  kinds: ReadonlySet<string>;
  /** A fresh frame of one of those kinds, from `from` (checked: the sealed sender). */
  receive(from: string, body: unknown): void;
}

/** What the inbox holds: a core frame, or (no `frame`) a message. */
export interface InboxItem {
  frame?: Frame;
  received: ReceivedFrame;
}

export function isMessage(body: unknown, kinds: ReadonlySet<string>): body is { type: string; from: string } {
  if (typeof body !== 'object' || body === null || !('type' in body) || !('from' in body)) return false;
  return typeof body.type === 'string' && kinds.has(body.type) && typeof body.from === 'string';
}

// Frames the cluster core does not know (a query and its ack and answer,
// messaging/query-frames.ts): authenticated, sealed and replay-checked by the
// same transport as every frame. A kind whose effect must never repeat (a
// query runs a handler) waits until its high-water is committed with the
// batch it arrived in, so a replay after a restart is refused too; the others
// (an ack, an answer: a replay finds no open query) are handed on at once,
// their stream's high-water persisted by its next committed frame. The core
// never sees them: they are requests, not facts, and take no part in ordering.
import type { Frame } from '../core/frames.js';
import type { ReceivedFrame } from './udp-transport.js';

export interface MessageChannel {
  /** The frame types (`type` field) this channel takes. */
  kinds: ReadonlySet<string>;
  /** Of those, the kinds handed on only once their replay high-water is committed. */
  committed: ReadonlySet<string>;
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

// Batching at the edge, where the cost is per datagram and per transaction,
// not per event: the frames of one committed transaction are coalesced (the
// events a producer's batch recorded go to each peer as a few frames, not one
// frame per event), and a frame too large for one datagram is split.
import type { EventsFrame, Frame } from '../core/frames.js';

/** A frame a committed step sends: to a member by name, or to a seed address. */
export interface Outgoing {
  to: string;
  seed: boolean;
  frame: Frame;
}

/**
 * Merges the `events` frames to the same member into one (up to `maxEvents`
 * events each), keeping every other frame and the order each member sees:
 * a merged frame goes out where its first part was, and a frame of another
 * type to that member closes the merge (it is sent after the events before it).
 */
export function coalesce(frames: readonly Outgoing[], maxEvents: number): Outgoing[] {
  const out: Outgoing[] = [];
  /** Per member: the events frame still open for merging (a copy, so the core's frame objects are left alone). */
  const open = new Map<string, EventsFrame>();
  for (const item of frames) {
    const { frame } = item;
    if (item.seed || frame.type !== 'events') {
      if (!item.seed) open.delete(item.to);
      out.push(item);
      continue;
    }
    const merging = open.get(item.to);
    if (merging !== undefined && merging.incarnation === frame.incarnation && merging.events.length + frame.events.length <= maxEvents) {
      merging.events.push(...frame.events);
      continue;
    }
    const copy: EventsFrame = { ...frame, events: [...frame.events] };
    open.set(item.to, copy);
    out.push({ to: item.to, seed: false, frame: copy });
  }
  return out;
}

/** Two frames with the first and second half of `frame`'s events (it holds at least two). */
export function splitEvents(frame: EventsFrame): [EventsFrame, EventsFrame] {
  const half = Math.ceil(frame.events.length / 2);
  return [{ ...frame, events: frame.events.slice(0, half) }, { ...frame, events: frame.events.slice(half) }];
}

/**
 * How many events fit one datagram, learned from the sizes of the frames
 * sealed so far: a large frame (a pull's answer of thousands of events) is cut
 * into pieces of about that many before it is sealed, instead of being
 * deflated and sealed whole, then in halves, and so on.
 */
export class DatagramFit {
  /** Sealed bytes per event, smoothed; a first guess until a frame was measured. */
  private bytesPerEvent = 200;

  constructor(private readonly maxBytes: number) {}

  /** Aim below the bound: events vary in size, and a piece too large costs a second seal. */
  get eventsPerDatagram(): number {
    return Math.max(1, Math.floor((0.8 * this.maxBytes) / this.bytesPerEvent));
  }

  learn(events: number, bytes: number): void {
    // Small frames carry the fixed header more than their events: they would make the estimate too high.
    if (events < 16 || bytes <= 0) return;
    this.bytesPerEvent = 0.7 * this.bytesPerEvent + 0.3 * (bytes / events);
  }

  pieces(frame: EventsFrame): EventsFrame[] {
    const size = this.eventsPerDatagram;
    if (frame.events.length <= size) return [frame];
    const out: EventsFrame[] = [];
    for (let at = 0; at < frame.events.length; at += size) out.push({ ...frame, events: frame.events.slice(at, at + size) });
    return out;
  }
}

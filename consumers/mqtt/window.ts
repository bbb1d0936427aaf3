// The in-flight window of the outbox, pure: which positions were handed to
// the broker, which were acknowledged, and how far the durable cursor may go.
// Invariant: `acked` only moves over a contiguous run of fully acknowledged
// entries, so every event at or below it reached the broker.

export interface WindowEntry {
  /** Delivery position this entry completes; snapshot entries carry the base position. */
  readonly pos: number;
  /** Messages still awaiting their acknowledgement. */
  pending: number;
  readonly kind: 'event' | 'snapshot';
}

export class InflightWindow {
  private entries: WindowEntry[] = [];
  /** Every event at or below this position is acknowledged. */
  acked: number;
  /** The last position handed out. */
  readPos: number;

  constructor(startPos: number) {
    this.acked = startPos;
    this.readPos = startPos;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Hands out an entry of `messages` publishes; event entries must come in position order. */
  take(kind: WindowEntry['kind'], pos: number, messages: number): WindowEntry {
    const entry: WindowEntry = { kind, pos, pending: messages };
    this.entries.push(entry);
    if (kind === 'event') this.readPos = pos;
    return entry;
  }

  /** One message of `entry` acknowledged; returns true when `acked` moved. */
  ack(entry: WindowEntry): boolean {
    if (entry.pending > 0) entry.pending--;
    const before = this.acked;
    while (this.entries.length > 0 && (this.entries[0] as WindowEntry).pending === 0) {
      const done = this.entries.shift() as WindowEntry;
      this.acked = Math.max(this.acked, done.pos);
    }
    return this.acked !== before;
  }

  /** A new connection: whatever was in flight is sent again from the acknowledged position. */
  rewind(): void {
    this.entries = [];
    this.readPos = this.acked;
  }
}

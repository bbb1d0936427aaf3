// Received frames are stepped in batches: every datagram the socket read in
// one turn of the event loop (up to `maxWeight`: a frame weighs one, an
// events frame one per event, so one batch never holds the event loop for
// long) is one SQLite transaction,
// one commit and one flush of the frames it causes, instead of one of each
// per datagram. The commit (an fsync) is what a receiver spends its time on;
// paying it once per batch is what lets a peer keep up with a burst.

export class FrameInbox<T> {
  private readonly queue: T[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly drain: (batch: T[]) => void, private readonly weight: (item: T) => number, private readonly maxWeight: number) {}

  /** Queues one item; the drain runs once the current I/O turn is done (setImmediate). */
  push(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    this.scheduled ??= setImmediate(() => this.run());
  }

  get length(): number {
    return this.queue.length;
  }

  /** Stops draining; what is queued is dropped (UDP: the protocol repairs loss). */
  close(): void {
    this.closed = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.queue.length = 0;
  }

  private run(): void {
    this.scheduled = undefined;
    let count = 0;
    // At least one item, however heavy: a batch always moves the queue.
    for (let weight = 0; count < this.queue.length && (count === 0 || weight + this.weight(this.queue[count]!) <= this.maxWeight); count++) {
      weight += this.weight(this.queue[count]!);
    }
    const batch = this.queue.splice(0, count);
    // More left: the next batch after timers and the API had their turn.
    if (this.queue.length > 0) this.scheduled = setImmediate(() => this.run());
    if (batch.length > 0) this.drain(batch);
  }
}

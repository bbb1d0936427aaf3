// One watcher's queue between the monitor feed and its connection. A slow
// reader must never slow the daemon: `push` is O(1) and never waits; the
// queue holds at most `capacity` entries and drops the oldest beyond that.
// Invariant: every drop is told, in order: the reader gets "N entries
// dropped" before the first entry that came after the dropped ones.
import type { MonitorEntry } from './monitor-feed.js';

/** Where entries go: resolves once the connection took it (backpressure: it waits for the socket to drain). */
export type MonitorSink = (entry: MonitorEntry) => Promise<void>;

export const monitorBufferDefaults = { capacity: 1024 } as const;

export class MonitorClientBuffer {
  private readonly queue: MonitorEntry[] = [];
  /** Dropped since the reader was last told. */
  private unreported = 0;
  private draining = false;
  private closed = false;
  /** Waiting for the queue to be sent (a graceful stop lets what is queued go out first). */
  private emptied: (() => void)[] = [];

  constructor(
    private readonly sink: MonitorSink,
    private readonly capacity: number = monitorBufferDefaults.capacity,
    /** Told of each drop (a metric). */
    private readonly onDrop: (count: number) => void = () => undefined,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`monitor buffer capacity must be a positive integer, not ${capacity}`);
  }

  /** Entries waiting to be sent. */
  get length(): number {
    return this.queue.length;
  }

  push(entry: MonitorEntry): void {
    if (this.closed) return;
    if (this.queue.length >= this.capacity) {
      this.queue.shift();
      this.unreported += 1;
      this.onDrop(1);
    }
    this.queue.push(entry);
    if (!this.draining) {
      this.draining = true;
      // Never on the publisher's stack (a log call, a commit): the socket write happens on a later turn.
      setImmediate(() => void this.drain());
    }
  }

  /** Resolves once everything queued so far is sent (or the queue closed); a stalled reader never gets there: bound the wait. */
  drained(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** Stops sending; what is queued is let go. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.unreported > 0) {
          const count = this.unreported;
          this.unreported = 0;
          await this.sink(droppedEntry(count));
          continue;
        }
        const entry = this.queue.shift();
        if (entry === undefined) break;
        await this.sink(entry);
      }
    } catch {
      // The connection is gone: nothing more can reach this reader.
      this.close();
    } finally {
      this.draining = false;
      for (const resolve of this.emptied.splice(0)) resolve();
    }
  }
}

export function droppedEntry(count: number): MonitorEntry {
  return {
    kind: 'log',
    level: 'warn',
    time: new Date().toISOString(),
    message: `${count} ${count === 1 ? 'entry' : 'entries'} dropped: this monitor client read too slowly`,
    data: { dropped: count },
  };
}

// Replay protection per stream, as IPsec's anti-replay window. A stream is
// one sender's frames to one recipient domain ("n2>n1", or "n2>*" for what
// n2 seals once for every node: its joins to the seeds), each with its own
// counter, so a frame sent to n3 and replayed to n1 is refused by n1
// before it is even looked at (wrong recipient), and one replayed to n3
// again meets n3's window.
//
// A frame is accepted once, from the sender's newest boot, within a window of
// recent counters (UDP reorders, so "greater than the last" would drop good
// frames). The highest (boot, counter) of each stream is persisted by the
// caller in the transaction of the step the frame drives, before the frame's
// effects are announced; after a restart every counter at or below it counts
// as seen, so frames captured before the restart are refused.
//
// A broadcast stream ("n2>*") has no window: only a counter above the highest
// is fresh. Its frames (joins) are periodic and idempotent, so a reordered one
// lost costs nothing, while a window would accept a copy a node missed when
// it was relayed later from another seed.

const windowSize = 1024;

interface StreamState {
  boot: number;
  highest: number;
  /** Counters in (highest - windowSize, highest] already seen; below `floor` every counter counts as seen. */
  seen: Set<number>;
  /** Persisted high-water this process started from: nothing at or below it is accepted again. */
  floor: number;
}

export type ReplayVerdict = 'fresh' | 'replay' | 'stale-boot' | 'too-old';

export interface HighWater {
  boot: number;
  counter: number;
}

export class ReplayGuard {
  private readonly streams = new Map<string, StreamState>();

  /** `persisted`: each stream's high-water as the last run left it. */
  constructor(persisted: ReadonlyMap<string, HighWater> = new Map()) {
    for (const [stream, { boot, counter }] of persisted) {
      this.streams.set(stream, { boot, highest: counter, seen: new Set(), floor: counter });
    }
  }

  check(stream: string, boot: number, counter: number, strict = false): ReplayVerdict {
    const state = this.streams.get(stream);
    if (!state || boot > state.boot) {
      // A restarted sender (newer boot) starts a fresh window.
      this.streams.set(stream, { boot, highest: counter, seen: new Set([counter]), floor: 0 });
      return 'fresh';
    }
    if (boot < state.boot) return 'stale-boot';
    if (counter <= state.floor || counter <= state.highest - (strict ? 1 : windowSize)) return 'too-old';
    if (state.seen.has(counter)) return 'replay';
    state.seen.add(counter);
    if (counter > state.highest) {
      state.highest = counter;
      for (const old of state.seen) if (old <= counter - windowSize) state.seen.delete(old);
    }
    return 'fresh';
  }

  /** The stream's high-water, to persist after a fresh frame. */
  highWater(stream: string): HighWater | undefined {
    const state = this.streams.get(stream);
    return state === undefined ? undefined : { boot: state.boot, counter: state.highest };
  }
}

/** The stream a frame belongs to: its sender and the recipient domain it was sealed for. */
export const streamOf = (from: string, to: string): string => `${from}>${to}`;

// Replay protection per sender, as IPsec's anti-replay window: a frame is
// accepted once, from the sender's newest boot, within a window of recent
// counters (UDP reorders, so "greater than the last" would drop good frames).

const windowSize = 1024;

interface SenderState {
  boot: number;
  highest: number;
  /** Counters in (highest - windowSize, highest] already seen. */
  seen: Set<number>;
}

export type ReplayVerdict = 'fresh' | 'replay' | 'stale-boot' | 'too-old';

export class ReplayGuard {
  private readonly senders = new Map<string, SenderState>();

  check(from: string, boot: number, counter: number): ReplayVerdict {
    const state = this.senders.get(from);
    if (!state || boot > state.boot) {
      // A restarted sender (newer boot) starts a fresh window.
      this.senders.set(from, { boot, highest: counter, seen: new Set([counter]) });
      return 'fresh';
    }
    if (boot < state.boot) return 'stale-boot';
    if (counter <= state.highest - windowSize) return 'too-old';
    if (state.seen.has(counter)) return 'replay';
    state.seen.add(counter);
    if (counter > state.highest) {
      state.highest = counter;
      for (const old of state.seen) if (old <= counter - windowSize) state.seen.delete(old);
    }
    return 'fresh';
  }
}

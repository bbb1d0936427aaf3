// Heartbeat acknowledgements, the raw material of failover leases.
//
// Every heartbeat carries a beat number (counting up within an incarnation)
// and, per peer, the highest beat heard from that peer's current incarnation.
// A node learns from a peer's heartbeat which of its own beats that peer has
// received; the edge, which knows when it sent each beat (LeaseClock, on a
// monotonic clock), turns that into "peer p heard me at or after time S".
// Acks travel back inside heartbeats, so a one-way cut starves the lease of
// the node whose frames are lost (its beats are never acked) and of the node
// that hears nothing (no acks arrive): both ends see it.
//
// Invariant the failover consumer builds on: an ack of beat b from p means p
// received b, which was sent at S_b; so p last heard this node at or after
// S_b, and a lease of L ms resting on that ack ends no later than L ms after
// p last heard this node.

/** One ack in a heartbeat: "the highest beat I heard from `name` at `incarnation`". */
export interface BeatAck {
  name: string;
  incarnation: number;
  beat: number;
}

export class LeaseAcks {
  private beat = 0;
  /** Per peer, the highest beat heard from its newest incarnation. */
  private readonly heard = new Map<string, { incarnation: number; beat: number }>();
  /** Per peer, the highest of this node's beats (current incarnation) it acked. */
  private readonly acked = new Map<string, number>();
  private ackedIncarnation = -1;

  /** The number of the heartbeat being built. */
  nextBeat(): number {
    this.beat += 1;
    return this.beat;
  }

  /** The highest beat heard from `name` (its newest incarnation), as an ack to send it. */
  ackOf(name: string): BeatAck | undefined {
    const held = this.heard.get(name);
    return held === undefined ? undefined : { name, ...held };
  }

  /** What this node's next heartbeat acknowledges. */
  acks(): BeatAck[] {
    return [...this.heard].map(([name, { incarnation, beat }]) => ({ name, incarnation, beat }));
  }

  /**
   * A peer's heartbeat: remembers its beat, and returns the beat of ours it
   * newly acknowledges (undefined when nothing new, or for another incarnation of ours).
   */
  onHeartbeat(from: string, incarnation: number, beat: number | undefined, acks: readonly BeatAck[] | undefined, self: string, selfIncarnation: number): number | undefined {
    if (beat !== undefined) {
      const held = this.heard.get(from);
      if (held === undefined || incarnation > held.incarnation || (incarnation === held.incarnation && beat > held.beat)) {
        this.heard.set(from, { incarnation, beat });
      }
    }
    if (this.ackedIncarnation !== selfIncarnation) {
      this.ackedIncarnation = selfIncarnation;
      this.acked.clear();
    }
    const mine = acks?.find((ack) => ack.name === self && ack.incarnation === selfIncarnation);
    if (mine === undefined || mine.beat > this.beat || mine.beat <= (this.acked.get(from) ?? 0)) return undefined;
    this.acked.set(from, mine.beat);
    return mine.beat;
  }
}

/** How many sent beats the edge remembers the time of (a few seconds of heartbeats). */
const rememberedBeats = 256;

/**
 * The edge's side: when each beat left (monotonic ms), and per peer the send
 * time of the newest beat it acknowledged.
 */
export class LeaseClock {
  private readonly sentAt = new Map<number, number>();
  private readonly ackedAt = new Map<string, number>();

  /** Call before the beat's frame leaves (so the time is never later than its arrival). */
  sent(beat: number, at: number): void {
    if (this.sentAt.has(beat)) return;
    this.sentAt.set(beat, at);
    if (this.sentAt.size > rememberedBeats) this.sentAt.delete(this.sentAt.keys().next().value as number);
  }

  acked(peer: string, beat: number): void {
    const at = this.sentAt.get(beat);
    if (at !== undefined && at > (this.ackedAt.get(peer) ?? -Infinity)) this.ackedAt.set(peer, at);
  }

  /** Forgets a peer's acks (it restarted: its acks were of an older life of ours, or it forgot us). */
  forget(peer: string): void {
    this.ackedAt.delete(peer);
  }

  /** Per peer that acked anything, how long ago (ms, at `now`) the beat it acknowledged was sent. */
  ages(now: number): Map<string, number> {
    return new Map([...this.ackedAt].map(([peer, at]) => [peer, now - at]));
  }
}

/**
 * The age of the acks a lease rests on: with `size` configured nodes, this
 * node plus floor(size / 2) peers are a majority, so the lease is as old as
 * the floor(size / 2)-th freshest peer ack. 0 on a single node; Infinity when
 * too few peers acked.
 */
export function leaseAgeMs(ages: ReadonlyMap<string, number>, size: number): number {
  const needed = Math.floor(size / 2);
  if (needed === 0) return 0;
  const sorted = [...ages.values()].sort((a, b) => a - b);
  return sorted.length < needed ? Infinity : sorted[needed - 1]!;
}

// Identity recovery: a node whose store is empty (a new disk, a wiped or
// truncated eventd.db) must not issue an id its peers may already hold with
// other content. Until it knows better it issues nothing: it asks the seeds
// (join), every node answers a join with what it knows of the joiner (an
// `identity` frame: the highest incarnation it saw, the joiner's events it
// holds, their newest HLC), and the node resumes above all of it:
// incarnation max + 1, seq at the highest held by any answer, its clock above
// every HLC of its own it is told of. Its own events the peers hold are then
// pulled back like any origin's (core.ts), and only once they are held does
// it record new events.
//
// When to stop asking: once every seed answered; or a majority of the
// cluster (seeds + this node) answered and a grace of two heartbeats passed
// (a late answer from a node that holds more still counts until then); or,
// with at least one answer, at waitMs. With no answer at all by waitMs it
// starts alone, loudly, at an incarnation no peer can have seen (its wall
// clock in seconds; incarnations count restarts) and seq 0: if a peer that
// was unreachable holds events of its earlier life, ids can collide, which is
// why the README says to replace a node's disk with its peers up.
//
// Pure, like the rest of the core: no clock but the awake time it is handed.

import type { IdentityFrame } from './frames.js';

export interface IdentityAnswer {
  incarnation: number;
  held: number;
  hlc: string | undefined;
}

export type RecoveryOutcome =
  /** Peers answered; `known` false when none of them had heard of this node (a new member). */
  | { kind: 'peers'; known: boolean; incarnation: number; seq: number; hlcs: string[]; holders: Map<string, number>; answered: string[] }
  /** Nobody answered within waitMs. */
  | { kind: 'alone'; incarnation: number };

export class IdentityRecovery {
  private readonly answers = new Map<string, IdentityAnswer>();
  private majorityAt: number | undefined;

  constructor(
    private readonly self: string,
    private readonly seedCount: number,
    private readonly heartbeatMs: number,
    private readonly waitMs: number,
  ) {}

  answer(frame: IdentityFrame, awake: number): void {
    if (frame.about !== this.self) return;
    this.answers.set(frame.from, { incarnation: frame.known, held: frame.held, hlc: frame.hlc });
    if (this.majorityAt === undefined && 2 * (this.answers.size + 1) > this.seedCount + 1) this.majorityAt = awake;
  }

  /** The outcome once recovery may end, else undefined. */
  settle(awake: number, now: number): RecoveryOutcome | undefined {
    const all = this.answers.size >= this.seedCount;
    const graceOver = this.majorityAt !== undefined && awake - this.majorityAt >= 2 * this.heartbeatMs;
    const timedOut = awake >= this.waitMs;
    if (!all && !graceOver && !timedOut) return undefined;
    if (this.answers.size === 0) return { kind: 'alone', incarnation: Math.floor(now / 1000) };
    let incarnation = -1;
    let seq = 0;
    const hlcs: string[] = [];
    const holders = new Map<string, number>();
    for (const [peer, answer] of this.answers) {
      incarnation = Math.max(incarnation, answer.incarnation);
      seq = Math.max(seq, answer.held);
      if (answer.hlc !== undefined) hlcs.push(answer.hlc);
      if (answer.held > 0) holders.set(peer, answer.held);
    }
    return { kind: 'peers', known: incarnation >= 0 || seq > 0, incarnation: incarnation + 1, seq, hlcs, holders, answered: [...this.answers.keys()].sort() };
  }
}

// The simulator's attacker and the edge's replay protection, in virtual time.
// Every frame travels with the header the edge seals (sender, recipient, boot,
// a counter per recipient, the sender's clock); each receiver admits it
// through the edge's own ReplayGuard, with each stream's high-water kept
// across its crashes as the edge keeps it in SQLite. The attacker copies
// frames it sees and replays them later to any node; the checker's
// invariants must hold, and no frame may reach a core twice, nor a node it
// was not sealed for.

import { ReplayGuard, streamOf, type HighWater } from '../../services/eventd/cluster/edge/replay-guard.js';
import { frameWindowMs } from '../../services/eventd/cluster/edge/udp-transport.js';
import type { Rng } from './prng.js';

export interface SealedHeader {
  from: string;
  to: string;
  boot: number;
  counter: number;
  sentAt: number;
}

export type Admission = 'fresh' | 'wrong-recipient' | 'expired' | 'replay' | 'stale-boot' | 'too-old';

export class SimWire {
  private readonly counters = new Map<string, number>();
  private readonly persisted = new Map<string, Map<string, HighWater>>();
  private readonly guards = new Map<string, ReplayGuard>();
  /** Replays the attacker sent, and how many frames a receiver admitted a second time (must stay 0). */
  replayed = 0;
  replaysAdmitted = 0;
  private readonly admitted = new Set<string>();

  /** The header of a frame `from` (in boot `boot`) sends to `to` now. */
  seal(from: string, to: string, boot: number, sentAt: number): SealedHeader {
    const key = `${from}>${to}@${boot}`;
    const counter = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, counter);
    return { from, to, boot, counter, sentAt };
  }

  /** A node (re)started: its guard starts from what it persisted. */
  restarted(node: string): void {
    this.guards.set(node, new ReplayGuard(this.persisted.get(node) ?? new Map()));
  }

  /** The edge's checks, in its order; a fresh frame's high-water is persisted with the step it drives. */
  admit(node: string, header: SealedHeader, now: number, replay: boolean): Admission {
    let verdict: Admission;
    if (header.to !== node) verdict = 'wrong-recipient';
    else if (Math.abs(now - header.sentAt) > frameWindowMs) verdict = 'expired';
    else {
      const guard = this.guards.get(node) ?? new ReplayGuard();
      this.guards.set(node, guard);
      const stream = streamOf(header.from, header.to);
      verdict = guard.check(stream, header.boot, header.counter);
      if (verdict === 'fresh') {
        let kept = this.persisted.get(node);
        if (kept === undefined) this.persisted.set(node, (kept = new Map()));
        kept.set(stream, guard.highWater(stream)!);
      }
    }
    // A replay of a frame the receiver never got (lost, cut) is that frame arriving late: admitted once, like any delay.
    if (verdict === 'fresh') {
      const key = `${node}<${header.from}@${header.boot}#${header.counter}`;
      if (this.admitted.has(key)) this.replaysAdmitted += 1;
      this.admitted.add(key);
    }
    void replay;
    return verdict;
  }
}

/** The attacker: replays a share of the frames it sees, to a random node, up to 40 s later (past the window too). */
export class Attacker {
  constructor(private readonly rng: Rng, private readonly nodes: readonly string[], private readonly share = 0.05) {}

  /** Where and when to replay a frame just seen, if at all. */
  replayOf(now: number): { to: string; at: number } | undefined {
    if (!this.rng.chance(this.share)) return undefined;
    return { to: this.nodes[this.rng.int(0, this.nodes.length - 1)]!, at: now + this.rng.int(1, 40_000) };
  }
}

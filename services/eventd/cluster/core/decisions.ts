// The replicated log of ordering decisions: position -> what sits there (an
// agreed event, by origin and seq, or a view of the primary component), each
// stamped with the epoch whose sequencer created it. Pure data; sequencer.ts
// runs the protocol over it.
//
// Invariants (Raft's log matching, restricted to ordering):
// - positions are dense from 1; an entry is never re-stamped with another epoch;
// - two logs holding the same position with the same epoch are identical up to it;
// - an event (origin:seq) sits at one position of a log at most, and every
//   agreed event of an origin before it sits at a lower position (FIFO closed).

/** A sequencer's term: numbered, tie broken by the sequencer's name (unique per node). */
export interface Epoch {
  n: number;
  leader: string;
}

export interface ViewEntry {
  members: string[];
  joined: string[];
  left: string[];
  /** HLC of the sequencer when it opened the epoch (the Cluster event's time). */
  hlc: string;
}

export type Decision =
  | { position: number; epoch: Epoch; kind: 'event'; origin: string; seq: number }
  | ({ position: number; epoch: Epoch; kind: 'view' } & ViewEntry);

export function compareEpochs(a: Epoch | null, b: Epoch | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return a.n - b.n || (a.leader < b.leader ? -1 : a.leader > b.leader ? 1 : 0);
}

export const sameEpoch = (a: Epoch | null, b: Epoch | null): boolean => compareEpochs(a, b) === 0;

export const decisionId = (d: Decision): string | undefined => (d.kind === 'event' ? `${d.origin}:${d.seq}` : undefined);

/** The in-memory log, loaded from the store at start; the core persists every change through the store in the same step. */
export class DecisionLog {
  private readonly entries: Decision[] = [];
  /** origin:seq -> position, for every event in the log. */
  private readonly placed = new Map<string, number>();

  constructor(initial: readonly Decision[]) {
    for (const d of initial) this.set(d);
  }

  get last(): number {
    return this.entries.length;
  }

  at(position: number): Decision | undefined {
    return this.entries[position - 1];
  }

  epochAt(position: number): Epoch | null {
    return this.entries[position - 1]?.epoch ?? null;
  }

  get lastEpoch(): Epoch | null {
    return this.epochAt(this.last);
  }

  positionOf(origin: string, seq: number): number | undefined {
    return this.placed.get(`${origin}:${seq}`);
  }

  /** Entries in (from, to], in order. */
  slice(from: number, to: number): Decision[] {
    return this.entries.slice(Math.max(from, 0), Math.max(to, 0));
  }

  /** Writes `d` at its position (which must be at most last + 1); returns the ids of events it displaced. */
  set(d: Decision): string[] {
    if (d.position > this.last + 1 || d.position < 1) throw new Error(`decision at ${d.position} would leave a hole (log ends at ${this.last})`);
    const displaced: string[] = [];
    const old = this.entries[d.position - 1];
    if (old !== undefined) {
      const id = decisionId(old);
      if (id !== undefined) {
        this.placed.delete(id);
        displaced.push(id);
      }
    }
    this.entries[d.position - 1] = d;
    const id = decisionId(d);
    if (id !== undefined) this.placed.set(id, d.position);
    return displaced;
  }

  /** Drops every entry above `position`; returns the ids of the events dropped. */
  truncate(position: number): string[] {
    const dropped: string[] = [];
    while (this.entries.length > position) {
      const d = this.entries.pop() as Decision;
      const id = decisionId(d);
      if (id !== undefined) {
        this.placed.delete(id);
        dropped.push(id);
      }
    }
    return dropped;
  }

  /** The members of the newest view entry at or below `position`, or [] when none. */
  membersBefore(position: number): string[] {
    for (let p = Math.min(position, this.last); p >= 1; p -= 1) {
      const d = this.entries[p - 1] as Decision;
      if (d.kind === 'view') return d.members;
    }
    return [];
  }
}

// The simulated network: per message loss, duplication and random delay
// (which reorders), rare long delays, and one-way link cuts (a partition is a
// set of cut links). Frames travel as JSON text, so nothing is shared between
// nodes and every frame is proven serialisable.

import type { Frame } from '../../services/eventd/cluster/core/index.js';
import type { NetworkParams } from './schedules.js';
import type { Rng } from './prng.js';

/** One serialised frame; its copies to every peer share the parse. */
export interface Parcel {
  json: string;
  parsed?: unknown;
  frame?: Frame | undefined;
}

export interface InFlight {
  from: string;
  to: string;
  at: number;
  parcel: Parcel;
}

/**
 * The frame as a receiver sees it: parsed from the JSON text once, then deep-frozen
 * and shared, so a core that mutated a received frame would throw.
 */
export function open(parcel: Parcel): unknown {
  if (parcel.parsed === undefined) parcel.parsed = deepFreeze(JSON.parse(parcel.json));
  return parcel.parsed;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export class Network {
  private readonly cuts = new Map<number, Set<string>>();
  private params: NetworkParams;
  sent = 0;
  dropped = 0;

  constructor(private readonly rng: Rng, params: NetworkParams) {
    this.params = params;
  }

  setParams(params: NetworkParams): void {
    this.params = params;
  }

  cut(id: number, links: readonly [string, string][]): void {
    this.cuts.set(id, new Set(links.map(([a, b]) => `${a}>${b}`)));
  }

  mend(id: number): void {
    this.cuts.delete(id);
  }

  mendAll(): void {
    this.cuts.clear();
  }

  blocked(from: string, to: string): boolean {
    const link = `${from}>${to}`;
    for (const links of this.cuts.values()) if (links.has(link)) return true;
    return false;
  }

  /** The copies of a message that will arrive (none when lost or cut), each with its arrival time. */
  send(from: string, to: string, now: number, parcel: Parcel): InFlight[] {
    this.sent += 1;
    if (this.blocked(from, to) || this.rng.chance(this.params.loss)) {
      this.dropped += 1;
      return [];
    }
    const copies = this.rng.chance(this.params.duplicate) ? 2 : 1;
    const out: InFlight[] = [];
    for (let i = 0; i < copies; i += 1) {
      const long = this.rng.chance(this.params.longDelayChance);
      const delay = this.rng.int(this.params.minDelayMs, long ? this.params.longDelayMaxMs : this.params.maxDelayMs);
      out.push({ from, to, at: now + delay, parcel });
    }
    return out;
  }
}

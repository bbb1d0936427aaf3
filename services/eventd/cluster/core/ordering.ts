// The (hlc, origin, seq) key of an event: the order in which a sequencer
// offers the agreed events it holds (sequencer.ts). It is a proposal only:
// the position a committed decision gives an event is what every node
// delivers by.

import type { ClusterEvent } from './frames.js';

/** An event's (hlc, origin, seq) key. */
export interface AgreedKey {
  hlc: string;
  origin: string;
  seq: number;
}

/**
 * Compares HLC texts as times. hlc.ts pads the logical counter to 4 digits;
 * a counter past 9999 would break plain string order, so unequal lengths
 * fall back to numeric comparison.
 */
export function compareHlc(a: string, b: string): number {
  if (a.length === b.length) return a < b ? -1 : a > b ? 1 : 0;
  const [aw = '0', al = '0'] = a.split('.');
  const [bw = '0', bl = '0'] = b.split('.');
  return Number(aw) - Number(bw) || Number(al) - Number(bl);
}

export function compareKeys(a: AgreedKey, b: AgreedKey): number {
  const byHlc = compareHlc(a.hlc, b.hlc);
  if (byHlc !== 0) return byHlc;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return a.seq - b.seq;
}

export const keyOf = (e: ClusterEvent): AgreedKey => ({ hlc: e.hlc, origin: e.origin, seq: e.seq });

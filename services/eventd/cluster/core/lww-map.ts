// Replicated subscriptions: a last-writer-wins map keyed by id, versioned by
// (HLC, writing node), with tombstones. Merge keeps the higher version, so it
// is commutative, associative and idempotent: nodes converge whatever order,
// duplication or repetition the entries arrive in. Tombstones are kept (not
// yet collected), so a delete can never be undone by an older put.

import type { Json, SubscriptionEntry, Version } from './frames.js';
import { compareHlc } from './ordering.js';

export function compareVersions(a: Version, b: Version): number {
  const byHlc = compareHlc(a.hlc, b.hlc);
  if (byHlc !== 0) return byHlc;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** 64-bit FNV-1a (two 32-bit lanes) as hex: a digest for anti-entropy, not security. */
export function fnv64(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

export class LwwMap {
  private readonly entries = new Map<string, SubscriptionEntry>();
  private cachedHash: string | undefined;

  constructor(initial: Iterable<SubscriptionEntry> = []) {
    for (const entry of initial) this.merge(entry);
  }

  get(id: string): SubscriptionEntry | undefined {
    return this.entries.get(id);
  }

  /** Live values (tombstones left out). */
  values(): { id: string; value: Json }[] {
    const out: { id: string; value: Json }[] = [];
    for (const entry of this.entries.values()) if (entry.value !== null) out.push({ id: entry.id, value: entry.value });
    return out;
  }

  all(): SubscriptionEntry[] {
    return [...this.entries.values()];
  }

  /** Applies `entry` if it is newer than what is held; returns true when it changed the map. */
  merge(entry: SubscriptionEntry): boolean {
    const held = this.entries.get(entry.id);
    if (held !== undefined && compareVersions(entry.version, held.version) <= 0) return false;
    this.entries.set(entry.id, { id: entry.id, version: { ...entry.version }, value: entry.value });
    this.cachedHash = undefined;
    return true;
  }

  digest(): { id: string; version: Version }[] {
    return [...this.entries.values()].map((e) => ({ id: e.id, version: e.version }));
  }

  /** Order-independent digest of (id, version) pairs; equal maps hash equal. */
  hash(): string {
    if (this.cachedHash === undefined) {
      const lines = [...this.entries.values()].map((e) => `${e.id}\u0000${e.version.hlc}\u0000${e.version.node}`).sort();
      this.cachedHash = this.entries.size === 0 ? '' : fnv64(lines.join('\u0001'));
    }
    return this.cachedHash;
  }

  /** Against a peer's digest: the entries the peer lacks or holds older, and the ids where the peer is newer. */
  compare(theirs: { id: string; version: Version }[]): { give: SubscriptionEntry[]; want: string[] } {
    const seen = new Set<string>();
    const give: SubscriptionEntry[] = [];
    const want: string[] = [];
    for (const { id, version } of theirs) {
      seen.add(id);
      const mine = this.entries.get(id);
      const order = mine === undefined ? -1 : compareVersions(mine.version, version);
      if (order > 0 && mine !== undefined) give.push(mine);
      else if (order < 0) want.push(id);
    }
    for (const entry of this.entries.values()) if (!seen.has(entry.id)) give.push(entry);
    return { give, want };
  }
}

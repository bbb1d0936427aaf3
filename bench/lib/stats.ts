// Small numeric helpers for the benchmarks' printed figures.

/** Nearest-rank percentile (p in 0..1) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** Milliseconds as "0.84 ms", "12.3 ms", "812 ms" or "7.21 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (abs >= 100) return `${value.toFixed(0)} ms`;
  if (abs >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/** A count or rate with a few significant digits: 1234 -> "1,234", 4.56 -> "4.6". */
export function num(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(1);
}

/** `serf / eventd` as "12.3x" (or "0.45x"). */
export function ratio(serf: number, eventd: number): string {
  if (!Number.isFinite(serf) || !Number.isFinite(eventd) || eventd === 0) return 'n/a';
  const r = serf / eventd;
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}x`;
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

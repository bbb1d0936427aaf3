// Output for people: aligned tables, key: value blocks, compact attributes.
// Machine output is --json, never these.
import type { Attrs } from '../types.js';

/** Shown for a missing value so columns never collapse. */
export const none = '-';

/** A table with a header row; columns are separated by two spaces and the last one is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((row) => headers.map((_, i) => cell(row[i])));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => width(row[i] ?? ''))));
  const lines = cells.map((row) =>
    row.map((value, i) => (i === row.length - 1 ? value : value + ' '.repeat((widths[i] ?? 0) - width(value)))).join('  ').trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** `key: value` lines with the values aligned. */
export function keyValues(entries: readonly (readonly [string, string])[]): string {
  const keyWidth = Math.max(0, ...entries.map(([key]) => key.length + 1));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(keyWidth)} ${cell(value)}`.trimEnd()).join('\n') + '\n';
}

/** `k=v k=v`; strings that would break the line or the pairs are quoted. */
export function compactAttrs(attrs: Attrs | undefined): string {
  if (attrs === undefined) return none;
  const pairs = Object.entries(attrs).map(([key, value]) => `${key}=${attrValue(value)}`);
  return pairs.length === 0 ? none : pairs.join(' ');
}

/** 250 -> "250ms", 1500 -> "1.5s", 125000 -> "2m05s", 7200000 -> "2h00m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return none;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trimZeros((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))}s`;
  const totalS = Math.floor(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${pad2(totalS % 60)}s`;
  const totalM = Math.floor(totalS / 60);
  if (totalM < 24 * 60) return `${Math.floor(totalM / 60)}h${pad2(totalM % 60)}m`;
  return `${Math.floor(totalM / 1440)}d${pad2(Math.floor((totalM % 1440) / 60))}h`;
}

/** An API time (ISO string; epoch milliseconds tolerated) as ISO 8601 UTC, or `-`. */
export function formatTime(value: string | number | null | undefined): string {
  const ms = timeMs(value);
  return ms === undefined ? none : new Date(ms).toISOString();
}

export function timeMs(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export function orNone(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? none : String(value);
}

function attrValue(value: Attrs[string]): string {
  if (typeof value !== 'string') return String(value);
  return value === '' || /[\s="]/.test(value) ? JSON.stringify(value) : value;
}

/** One line per row: control characters (a newline in an expression) become spaces. */
function cell(value: string | undefined): string {
  if (value === undefined || value === '') return none;
  // eslint-disable-next-line no-control-regex -- control characters from a producer must not reach the terminal
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

function width(value: string): number {
  return [...value].length;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

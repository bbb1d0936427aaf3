import { ratio } from './stats.js';

/** One line of a side-by-side table: eventd beside the tool it is compared with. */
export interface ComparisonRow {
  metric: string;
  eventd: number;
  other: number;
  format: (value: number) => string;
  target?: string;
  met?: boolean | undefined;
}

/** metric | eventd | other | other/eventd | target, columns padded; `separator` between cells, `ruleSeparator` in the line under the header. */
export function comparisonTable(
  rows: readonly ComparisonRow[],
  header: readonly [string, string, string, string, string],
  { separator, ruleSeparator }: { separator: string; ruleSeparator: string },
): string {
  const cells = rows.map((row) => [
    row.metric,
    row.format(row.eventd),
    row.format(row.other),
    ratio(row.other, row.eventd),
    row.target === undefined ? '' : `${row.target}${row.met === undefined ? '' : row.met ? '  met' : '  MISSED'}`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : i === c.length - 1 ? cell : cell.padStart(widths[i]!))).join(separator).trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join(ruleSeparator), ...cells.map(line)].join('\n');
}

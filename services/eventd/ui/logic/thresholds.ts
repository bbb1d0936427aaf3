/** A horizontal line on a resource's chart: where a condition fires or rearms. */
export interface ThresholdLine {
  kind: 'threshold' | 'rearm';
  value: number;
  /** The condition's name, for the chart's legend. */
  condition?: string;
}

const number = String.raw`(-?\d+(?:\.\d+)?)`;
const ops = String.raw`(>=|<=|>|<)`;

/**
 * The constants an expression compares `attribute` with (`percentUsed > 90`,
 * `10 < freeKiB`). `$prev.percentUsed` and `x.percentUsed` are other values, not
 * this sample's, so they draw no line. A best effort for the chart, not a parser:
 * an expression with no such comparison draws none.
 */
export function comparedConstants(expression: string | undefined, attribute: string): number[] {
  if (expression === undefined) return [];
  const name = attribute.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&');
  const values: number[] = [];
  const left = new RegExp(String.raw`(?<![\w.$])${name}\s*${ops}\s*${number}`, 'g');
  const right = new RegExp(String.raw`${number}\s*${ops}\s*${name}(?![\w])`, 'g');
  for (const match of expression.matchAll(left)) values.push(Number(match[2]));
  for (const match of expression.matchAll(right)) {
    const before = expression[(match.index ?? 0) - 1];
    if (before === undefined || !/[\w.$]/.test(before)) values.push(Number(match[1]));
  }
  return values;
}

export function thresholdLines(subscription: { name?: string; expr: string; rearm?: string }, attribute: string): ThresholdLine[] {
  const named = subscription.name === undefined ? {} : { condition: subscription.name };
  return [
    ...comparedConstants(subscription.expr, attribute).map((value): ThresholdLine => ({ kind: 'threshold', value, ...named })),
    ...comparedConstants(subscription.rearm, attribute).map((value): ThresholdLine => ({ kind: 'rearm', value, ...named })),
  ];
}

// jsonata's operator semantics (jsonata 2.2.2, jsonata.js: evaluateNumericExpression,
// evaluateEqualityExpression, evaluateComparisonExpression, boolize, isNumeric,
// isDeepEqual), restated so the fast path gives the same value or the same
// error code as jsonata for every input. The equivalence test holds this.

/** Message templates of the codes the fast path can raise, as jsonata words them. */
const templates: Record<string, string> = {
  D1001: 'Number out of range: {{value}}',
  D1002: 'Cannot negate a non-numeric value: {{value}}',
  T2001: 'The left side of the {{token}} operator must evaluate to a number',
  T2002: 'The right side of the {{token}} operator must evaluate to a number',
  T2009: 'The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type',
  T2010: 'The expressions either side of operator {{token}} must evaluate to numeric or string values',
};

/** A runtime error of the fast path, shaped like jsonata's (`code`, `position`, `token`, `value`). */
export class ExpressionRuntimeError extends Error {
  readonly code: string;
  position: number | undefined;
  token: string | undefined;
  readonly value: unknown;
  readonly value2: unknown;

  constructor(code: string, fields: { position?: number | undefined; token?: string; value?: unknown; value2?: unknown }) {
    super(code);
    this.name = 'ExpressionRuntimeError';
    this.code = code;
    this.position = fields.position;
    this.token = fields.token;
    this.value = fields.value;
    this.value2 = fields.value2;
    this.message = this.render();
  }

  /** jsonata re-labels an error that escapes an `and`/`or` with that operator's position and token. */
  relocate(position: number | undefined, token: string): void {
    this.position = position;
    this.token = token;
    this.message = this.render();
  }

  private render(): string {
    const template = templates[this.code] ?? this.code;
    return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) =>
      JSON.stringify(key === 'token' ? this.token : key === 'value' ? this.value : this.value2) ?? 'undefined',
    );
  }
}

/** jsonata's isNumeric: a number that is not NaN; an infinite number is an error (D1001). */
export function isNumeric(n: unknown): n is number {
  if (typeof n !== 'number' || Number.isNaN(n)) return false;
  if (!Number.isFinite(n)) throw new ExpressionRuntimeError('D1001', { value: n });
  return true;
}

function isJsonataFunction(value: object): boolean {
  const v = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return v._jsonata_function === true || v._jsonata_lambda === true;
}

/** jsonata's `$boolean` with undefined cast to false (its `boolize`). Throws D1001 for ±Infinity, as jsonata does. */
export function boolize(value: unknown): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) {
    if (value.length === 1) return boolize(value[0]);
    return value.length > 1 && value.filter((item) => boolize(item)).length > 0;
  }
  if (typeof value === 'string') return value.length > 0;
  if (isNumeric(value)) return value !== 0;
  if (value !== null && typeof value === 'object' && !isJsonataFunction(value)) return Object.keys(value).length > 0;
  return value === true;
}

/**
 * jsonata's $boolean casting of a result (undefined -> false, 0 -> false,
 * "" -> false, [] -> false, [x] -> cast of x, {} -> false, functions -> false).
 * Unlike jsonata, never throws: ±Infinity (from a division by zero) is true.
 */
export function truthy(value: unknown): boolean {
  try {
    return boolize(value);
  } catch {
    return true;
  }
}

/** jsonata's isDeepEqual (own property names, any order; NaN never equals NaN). */
export function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs !== 'object' || typeof rhs !== 'object' || lhs === null || rhs === null) return false;
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (lhs.length !== rhs.length) return false;
    return lhs.every((item: unknown, i) => isDeepEqual(item, rhs[i]));
  }
  const lkeys = Object.getOwnPropertyNames(lhs).sort();
  const rkeys = Object.getOwnPropertyNames(rhs).sort();
  if (lkeys.length !== rkeys.length || lkeys.some((key, i) => key !== rkeys[i])) return false;
  const l = lhs as Record<string, unknown>;
  const r = rhs as Record<string, unknown>;
  return lkeys.every((key) => isDeepEqual(l[key], r[key]));
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '<' | '<=' | '>' | '>=';

/** `+ - * / %`: type errors first (left, then right), then undefined if either side is undefined. */
export function arithmetic(lhs: unknown, rhs: unknown, op: ArithmeticOp, position: number | undefined): number | undefined {
  try {
    if (lhs !== undefined && !isNumeric(lhs)) throw new ExpressionRuntimeError('T2001', { value: lhs });
    if (rhs !== undefined && !isNumeric(rhs)) throw new ExpressionRuntimeError('T2002', { value: rhs });
  } catch (err) {
    if (err instanceof ExpressionRuntimeError) err.relocate(position, op);
    throw err;
  }
  if (lhs === undefined || rhs === undefined) return undefined;
  return applyArithmetic(lhs, rhs, op);
}

export function applyArithmetic(lhs: number, rhs: number, op: ArithmeticOp): number {
  switch (op) {
    case '+': return lhs + rhs;
    case '-': return lhs - rhs;
    case '*': return lhs * rhs;
    case '/': return lhs / rhs;
    case '%': return lhs % rhs;
  }
}

/** `< <= > >=`: only strings and numbers (T2010), undefined if either side is undefined, same type on both sides (T2009). */
export function compare(lhs: unknown, rhs: unknown, op: ComparisonOp, position: number | undefined): boolean | undefined {
  const ltype = typeof lhs;
  const rtype = typeof rhs;
  const lcomparable = ltype === 'undefined' || ltype === 'string' || ltype === 'number';
  const rcomparable = rtype === 'undefined' || rtype === 'string' || rtype === 'number';
  if (!lcomparable || !rcomparable) {
    const value = ltype === 'string' || ltype === 'number' ? rhs : lhs;
    throw new ExpressionRuntimeError('T2010', { position, token: op, value });
  }
  if (lhs === undefined || rhs === undefined) return undefined;
  if (ltype !== rtype) throw new ExpressionRuntimeError('T2009', { position, token: op, value: lhs, value2: rhs });
  const l = lhs as number | string;
  const r = rhs as number | string;
  switch (op) {
    case '<': return l < r;
    case '<=': return l <= r;
    case '>': return l > r;
    case '>=': return l >= r;
  }
}

/** `=`: false when either side is undefined (even both), else deep equality. `!=` is its negation, with the same undefined rule. */
export function equals(lhs: unknown, rhs: unknown): boolean {
  if (lhs === undefined || rhs === undefined) return false;
  return lhs === rhs || isDeepEqual(lhs, rhs);
}

export function notEquals(lhs: unknown, rhs: unknown): boolean {
  if (lhs === undefined || rhs === undefined) return false;
  return !(lhs === rhs || isDeepEqual(lhs, rhs));
}

/** Unary minus: undefined stays undefined, NaN or a non-number is D1002, ±Infinity is D1001 (no position, as in jsonata). */
export function negate(value: unknown, position: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (isNumeric(value)) return -value;
  throw new ExpressionRuntimeError('D1002', { position, token: '-', value });
}

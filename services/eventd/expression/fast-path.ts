// Compiles the common subset of jsonata (literals, attribute and $prev paths,
// the bound variables, comparisons, and/or, arithmetic, unary minus,
// conditions, blocks) to plain synchronous closures. Anything else returns
// undefined and the caller falls back to jsonata itself. Invariant: for every
// input, a compiled closure returns what jsonata returns or throws the error
// code jsonata throws (test/expression-equivalence.test.ts).

import type { Attrs } from '../types.js';
import type { AstNode, Bindings, FastFn } from './types.js';
import {
  type ArithmeticOp,
  type ComparisonOp,
  ExpressionRuntimeError,
  arithmetic,
  boolize,
  compare,
  equals,
  notEquals,
  negate,
} from './semantics.js';

const LITERAL_KEYS = new Set(['type', 'value', 'position']);
const PATH_KEYS = new Set(['type', 'steps']);
const BINARY_KEYS = new Set(['type', 'value', 'position', 'lhs', 'rhs']);
const UNARY_KEYS = new Set(['type', 'value', 'position', 'expression']);
const CONDITION_KEYS = new Set(['type', 'position', 'condition', 'then', 'else']);
const BLOCK_KEYS = new Set(['type', 'position', 'expressions']);

/** Only these keys may be present: anything else (predicate, stages, group, focus, keepArray, ...) changes the meaning. */
function only(node: AstNode, keys: ReadonlySet<string>): boolean {
  return Object.keys(node).every((key) => keys.has(key));
}

/** Returns a closure equivalent to the expression, or undefined when it is outside the subset. */
export function compileFast(node: AstNode): FastFn | undefined {
  switch (node.type) {
    case 'number':
    case 'string':
    case 'value': {
      if (!only(node, LITERAL_KEYS)) return undefined;
      const value = node.value;
      return () => value;
    }
    case 'name':
      return only(node, LITERAL_KEYS) && typeof node.value === 'string' ? attribute(node.value) : undefined;
    case 'variable':
      return only(node, LITERAL_KEYS) ? variable(node.value) : undefined;
    case 'path':
      return only(node, PATH_KEYS) ? path(node.steps ?? []) : undefined;
    case 'binary':
      return only(node, BINARY_KEYS) ? binary(node) : undefined;
    case 'unary':
      return only(node, UNARY_KEYS) && node.value === '-' && node.expression ? unaryMinus(node.expression, node.position) : undefined;
    case 'condition':
      return only(node, CONDITION_KEYS) ? condition(node) : undefined;
    case 'block':
      return only(node, BLOCK_KEYS) ? block(node.expressions ?? []) : undefined;
    default:
      return undefined;
  }
}

/** jsonata looks a name up with hasOwnProperty; only names Object.prototype also has need the check. */
function attribute(name: string): FastFn {
  if (name in Object.prototype) return (attrs) => (Object.hasOwn(attrs, name) ? attrs[name] : undefined);
  return (attrs) => attrs[name];
}

function variable(name: unknown): FastFn | undefined {
  switch (name) {
    case 'prev': return (_, b) => b.prev;
    case 'node': return (_, b) => b.node;
    case 'resource': return (_, b) => b.resource;
    case 'class': return (_, b) => b.class;
    case 'tags': return (_, b) => b.tags ?? {};
    case '': return (attrs) => attrs;
    default: return undefined;
  }
}

/** A field of a bound value: undefined unless the value is an object owning the field (jsonata's lookup). */
function field(get: FastFn, name: string): FastFn {
  return (attrs, b) => {
    const target = get(attrs, b);
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return undefined;
    return Object.hasOwn(target, name) ? (target as Attrs)[name] : undefined;
  };
}

/** `name`, or `$var.name` with a single name step; a longer path is a fallback. */
function path(steps: AstNode[]): FastFn | undefined {
  const [first, second] = steps;
  if (!first || !only(first, LITERAL_KEYS)) return undefined;
  if (steps.length === 1) return first.type === 'name' && typeof first.value === 'string' ? attribute(first.value) : undefined;
  if (steps.length !== 2 || first.type !== 'variable' || !second) return undefined;
  if (second.type !== 'name' || typeof second.value !== 'string' || !only(second, LITERAL_KEYS)) return undefined;
  const head = variable(first.value);
  if (!head) return undefined;
  return first.value === '' ? attribute(second.value) : field(head, second.value);
}

function binary(node: AstNode): FastFn | undefined {
  const op = node.value;
  const lhs = node.lhs;
  if (!lhs || Array.isArray(lhs) || !node.rhs) return undefined;
  const lf = compileFast(lhs);
  const rf = compileFast(node.rhs);
  if (!lf || !rf) return undefined;
  const position = node.position;
  switch (op) {
    case 'and': return and(lf, rf, position);
    case 'or': return or(lf, rf, position);
    case '=': return (a, b) => equals(lf(a, b), rf(a, b));
    case '!=': return (a, b) => notEquals(lf(a, b), rf(a, b));
    case '<': case '<=': case '>': case '>=':
      return comparison(op, lf, rf, node.rhs.type === 'number' ? node.rhs.value : undefined, position);
    case '+': case '-': case '*': case '/': case '%':
      return arithmeticOf(op, lf, rf, position);
    default:
      return undefined;
  }
}

function relabel(err: unknown, position: number | undefined, token: string): unknown {
  if (err instanceof ExpressionRuntimeError) err.relocate(position, token);
  return err;
}

/** The left side is evaluated outside jsonata's try; casting it and everything on the right is inside, so errors take this operator's position. */
function and(lf: FastFn, rf: FastFn, position: number | undefined): FastFn {
  return (a, b) => {
    const l = lf(a, b);
    try {
      if (!(typeof l === 'boolean' ? l : boolize(l))) return false;
      const r = rf(a, b);
      return typeof r === 'boolean' ? r : boolize(r);
    } catch (err) {
      throw relabel(err, position, 'and');
    }
  };
}

function or(lf: FastFn, rf: FastFn, position: number | undefined): FastFn {
  return (a, b) => {
    const l = lf(a, b);
    try {
      if (typeof l === 'boolean' ? l : boolize(l)) return true;
      const r = rf(a, b);
      return typeof r === 'boolean' ? r : boolize(r);
    } catch (err) {
      throw relabel(err, position, 'or');
    }
  };
}

/** Numbers on both sides is the common case; everything else goes through jsonata's full rules. */
function comparison(op: ComparisonOp, lf: FastFn, rf: FastFn, constant: unknown, position: number | undefined): FastFn {
  if (typeof constant === 'number') {
    switch (op) {
      case '<': return (a, b) => { const l = lf(a, b); return typeof l === 'number' ? l < constant : compare(l, constant, op, position); };
      case '<=': return (a, b) => { const l = lf(a, b); return typeof l === 'number' ? l <= constant : compare(l, constant, op, position); };
      case '>': return (a, b) => { const l = lf(a, b); return typeof l === 'number' ? l > constant : compare(l, constant, op, position); };
      case '>=': return (a, b) => { const l = lf(a, b); return typeof l === 'number' ? l >= constant : compare(l, constant, op, position); };
    }
  }
  switch (op) {
    case '<': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return typeof l === 'number' && typeof r === 'number' ? l < r : compare(l, r, op, position); };
    case '<=': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return typeof l === 'number' && typeof r === 'number' ? l <= r : compare(l, r, op, position); };
    case '>': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return typeof l === 'number' && typeof r === 'number' ? l > r : compare(l, r, op, position); };
    case '>=': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return typeof l === 'number' && typeof r === 'number' ? l >= r : compare(l, r, op, position); };
  }
}

/** Finite numbers on both sides is the common case; undefined, NaN, ±Infinity and non-numbers take jsonata's full rules. */
function arithmeticOf(op: ArithmeticOp, lf: FastFn, rf: FastFn, position: number | undefined): FastFn {
  const finite = (l: unknown, r: unknown): boolean =>
    typeof l === 'number' && typeof r === 'number' && Number.isFinite(l) && Number.isFinite(r);
  switch (op) {
    case '+': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return finite(l, r) ? (l as number) + (r as number) : arithmetic(l, r, op, position); };
    case '-': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return finite(l, r) ? (l as number) - (r as number) : arithmetic(l, r, op, position); };
    case '*': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return finite(l, r) ? (l as number) * (r as number) : arithmetic(l, r, op, position); };
    case '/': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return finite(l, r) ? (l as number) / (r as number) : arithmetic(l, r, op, position); };
    case '%': return (a, b) => { const l = lf(a, b); const r = rf(a, b); return finite(l, r) ? (l as number) % (r as number) : arithmetic(l, r, op, position); };
  }
}

function unaryMinus(operand: AstNode, position: number | undefined): FastFn | undefined {
  const f = compileFast(operand);
  if (!f) return undefined;
  return (a, b) => {
    const v = f(a, b);
    return typeof v === 'number' && Number.isFinite(v) ? -v : negate(v, position);
  };
}

/** jsonata casts the condition with $boolean (undefined is false); a missing else yields undefined. */
function condition(node: AstNode): FastFn | undefined {
  if (!node.condition || !node.then) return undefined;
  const cf = compileFast(node.condition);
  const tf = compileFast(node.then);
  const ef = node.else === undefined ? () => undefined : compileFast(node.else);
  if (!cf || !tf || !ef) return undefined;
  return (a, b) => {
    const c = cf(a, b);
    return (typeof c === 'boolean' ? c : boolize(c)) ? tf(a, b) : ef(a, b);
  };
}

/** A block evaluates each expression in turn and yields the last (bindings, which need a frame, are not in the subset). */
function block(expressions: AstNode[]): FastFn | undefined {
  const fns: FastFn[] = [];
  for (const expression of expressions) {
    const f = compileFast(expression);
    if (!f) return undefined;
    fns.push(f);
  }
  const [only1] = fns;
  if (fns.length === 1 && only1) return only1;
  return (a: Attrs, b: Bindings) => {
    let result: unknown;
    for (const f of fns) result = f(a, b);
    return result;
  };
}

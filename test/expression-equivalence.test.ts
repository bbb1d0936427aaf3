// Property test: for random expressions of the fast path's subset and random
// samples, the fast path gives exactly what jsonata gives: the same value, or
// an error with the same code, position, token and message.
// Re-run a failure with EXPR_SEED=<seed>.

import { test } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import jsonata from 'jsonata';
import { compileExpression, type Bindings } from '../services/eventd/expression/index.js';
import type { Attrs, AttrValue } from '../services/eventd/types.js';

const SEED = Number(process.env['EXPR_SEED'] ?? 20240611);
const EXPRESSIONS = 2500;
const SAMPLES_PER_EXPRESSION = 4;

/** mulberry32: a tiny seeded PRNG, so every run (and every failure) is reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;

// `missing` is never set; `constructor` is inherited by every object, so jsonata's own-property rule shows.
const NAMES = ['a', 'b', 'c', 's', 't', 'flag', 'missing', 'constructor'] as const;
const NUMBERS = ['0', '1', '2', '10', '75', '0.5', '-1', '-3', '1e3'];
const STRINGS = ['""', '"a"', '"b"', '"10"', '"n1"'];
const BINARY = ['=', '!=', '<', '<=', '>', '>=', 'and', 'or', '+', '-', '*', '/', '%'];

interface Generated { source: string; composite: boolean }

function leaf(rnd: Random): Generated {
  const r = rnd();
  let source: string;
  if (r < 0.35) source = pick(rnd, NAMES);
  else if (r < 0.5) source = `$prev.${pick(rnd, NAMES)}`;
  else if (r < 0.65) source = pick(rnd, NUMBERS);
  else if (r < 0.75) source = pick(rnd, STRINGS);
  else if (r < 0.83) source = pick(rnd, ['true', 'false', 'null']);
  else if (r < 0.93) source = pick(rnd, ['$node', '$resource', '$class']);
  else if (r < 0.97) source = `$.${pick(rnd, NAMES)}`;
  else source = pick(rnd, ['$prev', '$']);
  return { source, composite: false };
}

/** Composites are usually parenthesised; sometimes not, so jsonata's precedence shapes the tree. */
function operand(rnd: Random, g: Generated): string {
  return g.composite && rnd() < 0.8 ? `(${g.source})` : g.source;
}

function expression(rnd: Random, depth: number): Generated {
  if (depth <= 0 || rnd() < 0.25) return leaf(rnd);
  const r = rnd();
  if (r < 0.6) {
    const op = pick(rnd, BINARY);
    const lhs = operand(rnd, expression(rnd, depth - 1));
    const rhs = operand(rnd, expression(rnd, depth - 1));
    return { source: `${lhs} ${op} ${rhs}`, composite: true };
  }
  if (r < 0.7) {
    const inner = expression(rnd, depth - 1);
    return { source: `-${inner.composite ? `(${inner.source})` : inner.source}`, composite: true };
  }
  if (r < 0.88) {
    const c = operand(rnd, expression(rnd, depth - 1));
    const t = operand(rnd, expression(rnd, depth - 1));
    if (rnd() < 0.3) return { source: `${c} ? ${t}`, composite: true };
    return { source: `${c} ? ${t} : ${operand(rnd, expression(rnd, depth - 1))}`, composite: true };
  }
  if (r < 0.95) return { source: `(${expression(rnd, depth - 1).source})`, composite: false };
  return { source: `(${expression(rnd, depth - 1).source}; ${expression(rnd, depth - 1).source})`, composite: false };
}

// A well-typed half: numeric operands for arithmetic and comparisons, so most evaluations yield values.
const NUMERIC_NAMES = ['a', 'b', 'c', 'missing'] as const;

function numeric(rnd: Random, depth: number): string {
  const r = rnd();
  if (depth <= 0 || r < 0.3) {
    const leafKind = rnd();
    if (leafKind < 0.45) return pick(rnd, NUMERIC_NAMES);
    if (leafKind < 0.7) return `$prev.${pick(rnd, NUMERIC_NAMES)}`;
    return pick(rnd, NUMBERS);
  }
  if (r < 0.75) return `(${numeric(rnd, depth - 1)} ${pick(rnd, ['+', '-', '*', '/', '%'])} ${numeric(rnd, depth - 1)})`;
  if (r < 0.85) return `-(${numeric(rnd, depth - 1)})`;
  return `(${predicate(rnd, depth - 1)} ? ${numeric(rnd, depth - 1)} : ${numeric(rnd, depth - 1)})`;
}

function predicate(rnd: Random, depth: number): string {
  const r = rnd();
  if (depth <= 0 || r < 0.5) {
    return `${numeric(rnd, depth - 1)} ${pick(rnd, ['=', '!=', '<', '<=', '>', '>='])} ${numeric(rnd, depth - 1)}`;
  }
  if (r < 0.9) return `(${predicate(rnd, depth - 1)}) ${pick(rnd, ['and', 'or'])} (${predicate(rnd, depth - 1)})`;
  return pick(rnd, ['flag', '$node = "n1"', '$prev.flag', 'true']);
}

function value(rnd: Random): AttrValue | undefined {
  const r = rnd();
  if (r < 0.12) return undefined;
  if (r < 0.75) return pick(rnd, [0, 1, 2, 10, 75, 80, -1, 0.5, 99.9]);
  if (r < 0.9) return pick(rnd, ['', 'a', 'b', '10', 'n1']);
  return rnd() < 0.5;
}

function sample(rnd: Random): Attrs {
  const attrs: Attrs = {};
  for (const name of NAMES) {
    if (name === 'missing') continue;
    // `constructor` is an own attribute only now and then; otherwise the inherited one must stay invisible.
    if (name === 'constructor' && rnd() < 0.7) continue;
    const v = value(rnd);
    if (v !== undefined) attrs[name] = v;
  }
  return attrs;
}

function bindings(rnd: Random): Bindings {
  return {
    prev: rnd() < 0.25 ? undefined : sample(rnd),
    node: pick(rnd, ['n1', 'n2', '']),
    resource: pick(rnd, ['/dev/sda2', '10', '']),
    class: pick(rnd, ['PagingSpace', 'a']),
  };
}

type Outcome = { value: unknown } | { error: { code: unknown; position: unknown; token: unknown; message: unknown } };

function failure(err: unknown): Outcome {
  const e = err as { code?: unknown; position?: unknown; token?: unknown; message?: unknown };
  return { error: { code: e.code, position: e.position, token: e.token, message: e.message } };
}

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    return { value: await run() };
  } catch (err) {
    return failure(err);
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (v === undefined ? '<undefined>' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

test(`fast path equals jsonata on ${EXPRESSIONS} random expressions (seed ${SEED})`, async () => {
  const rnd = prng(SEED);
  const mismatches: string[] = [];
  let compiled = 0;
  let errors = 0;
  let undefinedResults = 0;
  const codes = new Set<unknown>();

  for (let i = 0; i < EXPRESSIONS; i++) {
    const source = i % 2 === 0 ? expression(rnd, 4).source : rnd() < 0.7 ? predicate(rnd, 3) : numeric(rnd, 3);
    let expr: jsonata.Expression;
    try {
      expr = jsonata(source);
    } catch {
      continue; // an unparenthesised mix jsonata rejects: not a fast-path question
    }
    const fast = compileExpression(source, 'expr');
    assert.equal(fast.fast, true, `seed ${SEED}: expected the fast path for ${source}`);
    compiled++;

    for (let k = 0; k < SAMPLES_PER_EXPRESSION; k++) {
      const attrs = sample(rnd);
      const b = bindings(rnd);
      const expected = await outcome(() => expr.evaluate(attrs, { ...b }));
      const actual = await outcome(() => {
        const result = fast.evaluate(attrs, b);
        assert.ok(!(result instanceof Promise), 'the fast path returned a Promise');
        return result;
      });
      if ('error' in expected) {
        errors++;
        codes.add(expected.error.code);
      } else if (expected.value === undefined) undefinedResults++;
      if (!isDeepStrictEqual(actual, expected) && mismatches.length < 10) {
        mismatches.push(
          `seed ${SEED}, expression #${i}: ${source}\n  attrs: ${show(attrs)}\n  bindings: ${show(b)}\n` +
            `  jsonata: ${show(expected)}\n  fast:    ${show(actual)}`,
        );
      }
    }
  }

  if (mismatches.length > 0) {
    console.error(mismatches.join('\n'));
    assert.fail(`${mismatches.length}+ mismatches between the fast path and jsonata (seed ${SEED})`);
  }
  assert.ok(compiled >= 2000, `only ${compiled} expressions parsed (seed ${SEED})`);
  // The generator must reach the interesting corners, not only happy paths.
  const total = compiled * SAMPLES_PER_EXPRESSION;
  assert.ok(errors > total * 0.05, `only ${errors} of ${total} evaluations raised an error`);
  assert.ok(undefinedResults > total * 0.05, `only ${undefinedResults} of ${total} evaluations were undefined`);
  for (const code of ['T2001', 'T2002', 'T2009', 'T2010', 'D1001', 'D1002']) {
    assert.ok(codes.has(code), `no evaluation raised ${code} (seed ${SEED})`);
  }
  console.log(`${compiled} expressions, ${total} evaluations, ${errors} errors (${[...codes].sort().join(' ')}), ${undefinedResults} undefined`);
});

test('hand-picked corners agree with jsonata', async () => {
  const attrs: Attrs = { n: 5, z: 0, s: 'x', e: '', t: true, f: false };
  const b: Bindings = { prev: { n: 4 }, node: 'n1', resource: 'r', class: 'C' };
  const sources = [
    'n / z', '-n / z', 'z / z', 'z % z', '(n / z) + 1', '(z / z) + 1', '-(n / z)', '-(z / z)', '(n / z) > 1',
    '(n / z) and true', 'false or (n / z)', '(n / z) ? 1 : 2', '(z / z) ? 1 : 2', '(n / z) = (n / z)', '(z / z) = (z / z)',
    'missing < missing', 'missing = missing', 'missing != missing', 'missing + s', 's + missing', 'missing + missing',
    't > missing', 'missing > t', 's < 1', 's < "y"', 'null = null', 'null < 1', '$prev = $prev', '$prev < 1',
    '$prev.n < n', '$prev.missing', 'true and s > 1', 's > 1 or true', 'e or z or f', 'n ? s', 'z ? s', '0 * -1', '-z',
    '$node.length', '$.n', 'constructor', '$prev.constructor', '$ = $', '()', '(n; s)',
  ];
  for (const source of sources) {
    const compiled = compileExpression(source, 'expr');
    assert.equal(compiled.fast, true, source);
    const expected = await outcome(() => jsonata(source).evaluate(attrs, { ...b }));
    const actual = await outcome(() => compiled.evaluate(attrs, b));
    assert.deepEqual(actual, expected, `${source}: jsonata ${show(expected)}, fast ${show(actual)}`);
  }
});

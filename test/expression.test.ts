import { test } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { EventdError } from '../services/eventd/errors.js';
import { compileExpression, truthy, type Bindings } from '../services/eventd/expression/index.js';
import type { Attrs } from '../services/eventd/types.js';

const PAGING = new Set(['freeKiB', 'percentUsed', 'sizeKiB', 'active']);
const attrs: Attrs = { freeKiB: 1024, percentUsed: 80, sizeKiB: 4096, active: true };
const bindings: Bindings = { prev: undefined, node: 'n1', resource: '/dev/sda2', class: 'PagingSpace' };

function compileError(source: string, field = 'expr', attributes: ReadonlySet<string> | undefined = PAGING): EventdError {
  try {
    compileExpression(source, field, attributes);
  } catch (err) {
    assert.ok(err instanceof EventdError, `expected an EventdError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(source)} to be rejected`);
}

async function run(source: string, a: Attrs = attrs, b: Bindings = bindings): Promise<unknown> {
  return compileExpression(source, 'expr', PAGING).evaluate(a, b);
}

test('a syntax error names the field, the position, the token and jsonata code', () => {
  const err = compileError('percentUsed > > 75', 'rearm');
  assert.equal(err.code, 'EVENTD_ERR_BAD_EXPRESSION');
  assert.equal(err.status, 400);
  assert.equal(err.details?.['field'], 'rearm');
  assert.equal(err.details?.['position'], 15);
  assert.equal(err.details?.['token'], '>');
  assert.equal(err.details?.['jsonataCode'], 'S0211');
  assert.match(err.message, /^rearm: syntax error at position 15 near ">"/);
  assert.equal(err.details?.['pointer'], 'percentUsed > > 75\n              ^');
});

test('an expression that stops early points past its end', () => {
  const err = compileError('percentUsed > 75 and', 'where');
  assert.equal(err.code, 'EVENTD_ERR_BAD_EXPRESSION');
  assert.equal(err.details?.['field'], 'where');
  assert.equal(err.details?.['jsonataCode'], 'S0207');
  assert.equal(err.details?.['pointer'], 'percentUsed > 75 and\n                    ^');
});

test('other syntax errors are bad expressions too', () => {
  for (const source of ['(percentUsed > 1', '"abc', 'percentUsed +* 2', 'a b', '$prev.']) {
    const err = compileError(source, 'expr', undefined);
    assert.equal(err.code, 'EVENTD_ERR_BAD_EXPRESSION', source);
    assert.equal(typeof err.details?.['position'], 'number', source);
    assert.match(String(err.details?.['jsonataCode']), /^S0/, source);
  }
});

test('an empty or blank expression is rejected, naming the field', () => {
  for (const source of ['', '   ', '\n\t']) {
    const err = compileError(source, 'rearm');
    assert.equal(err.code, 'EVENTD_ERR_BAD_EXPRESSION');
    assert.equal(err.details?.['field'], 'rearm');
    assert.match(err.message, /^rearm: /);
  }
});

test('an unknown attribute is rejected with the known ones listed', () => {
  const err = compileError('percentUsd > 75');
  assert.equal(err.code, 'EVENTD_ERR_UNKNOWN_ATTRIBUTE');
  assert.equal(err.details?.['field'], 'expr');
  assert.equal(err.details?.['attribute'], 'percentUsd');
  assert.equal(err.details?.['position'], 10);
  assert.deepEqual(err.details?.['known'], ['active', 'freeKiB', 'percentUsed', 'sizeKiB']);
  assert.equal(err.details?.['pointer'], 'percentUsd > 75\n^^^^^^^^^^');
  assert.match(err.message, /^expr: unknown attribute "percentUsd" of this class at position 10; attributes are: active, freeKiB, percentUsed, sizeKiB$/);
});

test('unknown attributes are found wherever the sample root is read', () => {
  const cases: Array<[string, string]> = [
    ['$prev.percentUsd > 1', 'percentUsd'],
    ['(percentUsed - $prev.percentUsd) > 10', 'percentUsd'],
    ['-used > 1', 'used'],
    ['active ? percentUsed : free', 'free'],
    ['(freeKiB; sizeKB)', 'sizeKB'],
    ['$abs(percentUsed - usedKiB) > 1', 'usedKiB'],
    ['percentUsed ~> $max(sizKiB)', 'sizKiB'],
    ['[percentUsed, fre] ~> $count() > 1', 'fre'],
    ['{"a": percentUsed, "b": freeKB}.a > 1', 'freeKB'],
    ['($x := percntUsed; $x > 1)', 'percntUsed'],
    ['$.percentUse > 1', 'percentUse'],
    ['percentUsed > 1 and `free KiB` < 10', 'free KiB'],
  ];
  for (const [source, attribute] of cases) {
    const err = compileError(source);
    assert.equal(err.code, 'EVENTD_ERR_UNKNOWN_ATTRIBUTE', source);
    assert.equal(err.details?.['attribute'], attribute, source);
  }
});

test('known attributes and complex expressions are accepted', () => {
  const sources = [
    'percentUsed > 75',
    'percentUsed > 75 and active',
    '$prev.percentUsed < percentUsed',
    '$abs(percentUsed - $prev.percentUsed) > 10',
    '$map([freeKiB, sizeKiB], function($v) { $v.someField ? 1 : $v * 2 }) ~> $sum() > 0',
    '$filter([1, 2, 3], function($x, $i) { $x > $i and $x.other }) ~> $count() > 1',
    '($ratio := function($a, $b) { $a / $b }; $ratio(freeKiB, sizeKiB) < 0.1)',
    'freeKiB[anything > 1]',
    'freeKiB.nested.path',
    '$string(percentUsed) = "80"',
    '$node = "n1" and $resource ~> $contains("sda") and $class = "PagingSpace"',
    '$prev',
    '$exists($prev) and percentUsed > 10',
  ];
  for (const source of sources) {
    assert.doesNotThrow(() => compileExpression(source, 'expr', PAGING), source);
  }
});

test('without an attribute set any name is accepted', () => {
  assert.equal(compileExpression('whatever > 1', 'expr').source, 'whatever > 1');
});

test('rate of change against $prev, with and without a previous sample', async () => {
  const source = '(percentUsed - $prev.percentUsed) > 10';
  assert.equal(await run(source, { ...attrs, percentUsed: 80 }, { ...bindings, prev: { ...attrs, percentUsed: 65 } }), true);
  assert.equal(await run(source, { ...attrs, percentUsed: 80 }, { ...bindings, prev: { ...attrs, percentUsed: 75 } }), false);
  // No previous sample: the difference is undefined, so is the comparison; truthy() makes it false.
  const first = await run(source, attrs, bindings);
  assert.equal(first, undefined);
  assert.equal(truthy(first), false);
  assert.equal(await run('$prev.percentUsed = $prev.percentUsed', attrs, bindings), false);
});

test('$node, $resource, $class and $prev are bound', async () => {
  const prev: Attrs = { ...attrs, percentUsed: 10 };
  const b: Bindings = { prev, node: 'n7', resource: '/dev/sdb1', class: 'PagingSpace' };
  assert.equal(await run('$node', attrs, b), 'n7');
  assert.equal(await run('$resource', attrs, b), '/dev/sdb1');
  assert.equal(await run('$class', attrs, b), 'PagingSpace');
  assert.equal(await run('$prev', attrs, b), prev);
  assert.equal(await run('$node = "n7" and $class = "PagingSpace" and percentUsed > 75', attrs, b), true);
  // The same through jsonata itself (a function call is outside the fast path).
  assert.equal(await run('$uppercase($node) & ":" & $resource & ":" & $string($prev.percentUsed)', attrs, b), 'N7:/dev/sdb1:10');
});

test('the fast flag is true for the subset and false outside it', () => {
  const fast = [
    'percentUsed > 75',
    '(percentUsed - $prev.percentUsed) > 10',
    'active and (freeKiB < 100 or percentUsed >= 90)',
    'percentUsed > 90 ? "critical" : percentUsed > 75 ? "warning"',
    '-freeKiB * 2 + sizeKiB % 7 / 3 != 0',
    '$node = "n1" and $resource != "/" and $class = "PagingSpace"',
    'true', 'null', '"s"', '1.5', '$prev', '(percentUsed)',
  ];
  const slow = [
    '$abs(percentUsed) > 1',
    'percentUsed & "%"',
    'percentUsed in [1, 2]',
    'freeKiB[0] > 1',
    'freeKiB.nested > 1',
    '$prev.percentUsed.x',
    '$other > 1',
    '($x := 1; $x)',
    'function($x) { $x }',
    'percentUsed[]',
  ];
  for (const source of fast) assert.equal(compileExpression(source, 'expr').fast, true, source);
  for (const source of slow) assert.equal(compileExpression(source, 'expr').fast, false, source);
});

test('the fast path returns a value, the fallback a Promise', async () => {
  const fast = compileExpression('percentUsed > 75', 'expr').evaluate(attrs, bindings);
  assert.equal(fast, true);
  const slow = compileExpression('$abs(percentUsed) > 75', 'expr').evaluate(attrs, bindings);
  assert.ok(slow instanceof Promise);
  assert.equal(await slow, true);
});

test('runtime type errors carry jsonata codes on both paths', async () => {
  const strAttrs: Attrs = { ...attrs, label: 'x' };
  assert.throws(() => compileExpression('label > 1', 'expr').evaluate(strAttrs, bindings), { code: 'T2009', position: 7, token: '>' });
  assert.throws(() => compileExpression('active > 1', 'expr').evaluate(strAttrs, bindings), { code: 'T2010' });
  assert.throws(() => compileExpression('label + 1', 'expr').evaluate(strAttrs, bindings), { code: 'T2001' });
  assert.throws(() => compileExpression('-label', 'expr').evaluate(strAttrs, bindings), { code: 'D1002' });
  await assert.rejects(async () => compileExpression('$abs(label) > 1', 'expr').evaluate(strAttrs, bindings), { code: 'T0410' });
});

test('truthy() casts like jsonata $boolean', () => {
  const cases: Array<[unknown, boolean]> = [
    [undefined, false], [null, false], [false, false], [true, true],
    [0, false], [-0, false], [1, true], [-2.5, true], [Number.NaN, false],
    ['', false], ['0', true], ['false', true],
    [[], false], [[0], false], [[1], true], [[0, ''], false], [[0, 'x'], true], [[[0]], false],
    [{}, false], [{ a: 0 }, true],
    [() => true, false],
    [Number.POSITIVE_INFINITY, true],
  ];
  for (const [value, expected] of cases) assert.equal(truthy(value), expected, String(value));
});

// Issue 10, finding 6: `load1 > "a"`, `$sum("x") > 1` and `cpuPercent.foo > 1`
// were accepted and then failed (or never fired) on every sample, silently.
// Checked at creation against the manifest's attribute types: an error names
// the field and the position; what jsonata allows is a warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventdError } from '../services/eventd/errors.js';
import { compileExpression } from '../services/eventd/expression/index.js';
import type { AttributeType } from '../services/eventd/types.js';

const host = new Map<string, AttributeType>([['load1', 'number'], ['cpuPercent', 'number'], ['cpus', 'number'], ['state', 'string'], ['up', 'boolean']]);

function refusal(source: string): EventdError {
  try {
    compileExpression(source, 'expr', host);
  } catch (error) {
    assert.ok(error instanceof EventdError);
    return error;
  }
  assert.fail(`${source} was accepted`);
}

test('what jsonata fails on for every sample is a 400 naming the position and pointing at the token', () => {
  const cases: { source: string; position: number; pointer: string; mentions: RegExp }[] = [
    { source: 'load1 > "a"', position: 11, pointer: 'load1 > "a"\n        ^^^', mentions: /number with a string.*T2009/ },
    { source: '"a" <= cpus', position: 3, pointer: '"a" <= cpus\n^^^', mentions: /string with a number/ },
    { source: 'cpuPercent.foo > 1', position: 14, pointer: 'cpuPercent.foo > 1\n           ^^^', mentions: /"cpuPercent" is a number: the step \.foo/ },
    { source: '$prev.load1.x > 1', position: 13, pointer: '$prev.load1.x > 1\n            ^', mentions: /"load1" is a number/ },
    { source: '$sum("x") > 1', position: 8, pointer: '$sum("x") > 1\n     ^^^', mentions: /argument 1 of \$sum must be numbers, not a string/ },
    { source: '$abs(state) > 1', position: 10, pointer: '$abs(state) > 1\n     ^^^^^', mentions: /argument 1 of \$abs/ },
    { source: 'load1 + state > 1', position: 13, pointer: 'load1 + state > 1\n        ^^^^^', mentions: /right side of "\+" is a string/ },
    { source: 'up > 1', position: 2, pointer: 'up > 1\n^^', mentions: /not a boolean.*T2010/ },
    { source: '-state < 0', position: 6, pointer: '-state < 0\n ^^^^^', mentions: /negates a string/ },
  ];
  for (const item of cases) {
    const error = refusal(item.source);
    assert.equal(error.code, 'EVENTD_ERR_EXPRESSION_TYPE', item.source);
    assert.equal(error.status, 400);
    assert.equal(error.details?.['field'], 'expr');
    assert.equal(error.details?.['position'], item.position, item.source);
    assert.equal(error.details?.['pointer'], item.pointer, item.source);
    assert.match(error.message, item.mentions, item.source);
    assert.match(error.message, new RegExp(`^expr: type error at position ${item.position}: `));
  }
});

test('what jsonata allows but is almost surely a mistake is a warning beside the compiled expression', () => {
  const cases: { source: string; mentions: RegExp }[] = [
    { source: 'load1', mentions: /expression is a number, used as a condition/ },
    { source: 'cpus and load1 > 1', mentions: /left side of "and" is a number/ },
    { source: 'load1 ? true : false', mentions: /condition of \?: is a number/ },
    { source: 'load1 = "1"', mentions: /"=" compares a number with a string: they are never equal/ },
  ];
  for (const item of cases) {
    const compiled = compileExpression(item.source, 'expr', host);
    assert.equal(compiled.warnings.length, 1, item.source);
    assert.match(compiled.warnings[0]!.message, item.mentions, item.source);
    assert.equal(compiled.warnings[0]!.field, 'expr');
    assert.equal(typeof compiled.warnings[0]!.pointer, 'string');
  }
});

test('legal, typed and unknown uses are accepted without warnings', () => {
  for (const source of [
    'load1 > 2 * cpus', 'state = "up"', 'up', 'up and load1 > 1', '$sum([load1, cpus]) > 1', '$abs(load1 - $prev.load1) > 1',
    '$length(state) > 0', '($f := function($n) { $n.x > 1 }; $f(load1))', '($sum := function($v) { $v }; $sum("x")) = "x"',
    '$count(cpuPercent) > 0', '$prev.load1 > 1', '$exists($prev.load1)', '$string(load1) = "1"', 'load1 > $number("2")',
  ]) {
    const compiled = compileExpression(source, 'expr', host);
    assert.deepEqual(compiled.warnings, [], source);
  }
  // With names only (no types), nothing is type-checked.
  assert.doesNotThrow(() => compileExpression('load1 > "a"', 'expr', new Set(host.keys())));
});

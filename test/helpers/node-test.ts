// node:test with a deadline on every test. Node 20 applies `--test-timeout`
// to a whole file run by `node --test` (a stuck test then fails as its file,
// its after hooks never run), so each test gets its own bound here: a stuck
// test fails with its name, its cleanup stack runs, the next test starts.
// A test that needs longer says so with its own `timeout`.
import * as nodeTest from 'node:test';
import type { TestContext, TestOptions } from 'node:test';

export { after, afterEach, before, beforeEach, describe, type TestContext } from 'node:test';

/** The bound on one test: generous for a loaded 2-core machine running two files at once. */
export const testTimeoutMs = 120_000;

type Body = (t: TestContext) => void | Promise<void>;

export function test(name: string, body: Body): Promise<void>;
export function test(name: string, options: TestOptions, body: Body): Promise<void>;
export function test(name: string, optionsOrBody: TestOptions | Body, maybeBody?: Body): Promise<void> {
  const [options, body] = typeof optionsOrBody === 'function' ? [{}, optionsOrBody] : [optionsOrBody, maybeBody];
  if (!body) throw new Error(`test "${name}" has no body`);
  return nodeTest.test(name, { timeout: testTimeoutMs, ...options }, body);
}

export const it = test;

// node:test with a deadline on every test. Node 20 applies `--test-timeout`
// to a whole file run by `node --test` (a stuck test then fails as its file,
// its after hooks never run), so each test gets its own bound here: a stuck
// test fails with its name, its cleanup stack runs, the next test starts.
// A test that needs longer says so with its own `timeout`.
import * as nodeTest from 'node:test';
import type { TestContext, TestOptions } from 'node:test';

export { after, afterEach, before, beforeEach, describe, type TestContext } from 'node:test';

/** The bound on one test: generous for a loaded 2-core machine running two files at once (EVENTD_TEST_TIMEOUT_MS overrides). */
export const testTimeoutMs = Number(process.env['EVENTD_TEST_TIMEOUT_MS']) || 120_000;

/** How long a file's process may linger once its tests are done (EVENTD_TEST_LINGER_MS overrides). */
export const lingerMs = Number(process.env['EVENTD_TEST_LINGER_MS']) || 15_000;

// Node 20 has no --test-force-exit: a test that timed out may leave a socket,
// timer or child holding the file's process open after every test is done,
// and the run would wait for the per-file bound. An unref'd timer fires only
// if something else keeps the process alive: then it names the problem and
// fails the file.
void nodeTest.after(() => {
  setTimeout(() => {
    process.stderr.write(`every test of this file is done, but something (a stuck test's socket, timer or child) still holds its process open after ${lingerMs} ms: exiting 1\n`);
    process.exit(1);
  }, lingerMs).unref();
});

type Body = (t: TestContext) => void | Promise<void>;

// The promise node:test returns is the runner's own (it awaits every test): not handed on.
export function test(name: string, body: Body): void;
export function test(name: string, options: TestOptions, body: Body): void;
export function test(name: string, optionsOrBody: TestOptions | Body, maybeBody?: Body): void {
  const [options, body] = typeof optionsOrBody === 'function' ? [{}, optionsOrBody] : [optionsOrBody, maybeBody];
  if (!body) throw new Error(`test "${name}" has no body`);
  void nodeTest.test(name, { timeout: testTimeoutMs, ...options }, body);
}

export const it = test;

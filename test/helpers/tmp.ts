import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defer, type Hooks } from './cleanup.js';

export { defer } from './cleanup.js';

/**
 * A fresh temp folder, removed when the test ends: on the test's cleanup
 * stack, so after everything set up later (a daemon writing into it) has
 * been stopped.
 */
export function tempDir(t: Hooks, prefix = 'eventd-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }), `remove ${dir}`);
  return dir;
}

/** Thrown by a `waitFor` check when waiting longer is pointless (the process waited on has exited): fails at once. */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails
 * after `timeoutMs`. A check that throws is retried (the last error is in the
 * timeout message), unless it throws `GiveUp`.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

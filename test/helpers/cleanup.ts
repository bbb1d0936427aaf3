// One cleanup stack per test, run last-in first-out. node:test runs `t.after`
// hooks in the order they were registered, so a folder made first and a
// daemon started in it later would be removed first, under the live daemon.
// Everything a test sets up is pushed here instead: the daemon is stopped
// before the folder it writes to is removed, whatever order the test reads
// in. Each step has a deadline, so a stuck step fails the test (with what it
// was) instead of hanging the suite, and the steps below it still run.

/** What node:test hands a test (and a suite's `before`): the hook to run at its end. */
export interface Hooks {
  after: (fn: () => unknown, options?: { timeout?: number }) => void;
}

export type CleanupStep = () => unknown;

interface Stack {
  steps: { what: string; step: CleanupStep }[];
}

/** How long one cleanup step may take (a daemon stop is bounded well below this). */
export const cleanupStepDeadlineMs = 60_000;

const stacks = new WeakMap<Hooks, Stack>();

/** Pushes `step` onto `t`'s cleanup stack: it runs when the test ends, before every step pushed earlier. */
export function defer(t: Hooks, step: CleanupStep, what = step.toString().slice(0, 80)): void {
  let stack = stacks.get(t);
  if (!stack) {
    const created: Stack = { steps: [] };
    stack = created;
    stacks.set(t, created);
    t.after(() => unwind(created));
  }
  stack.steps.push({ what, step });
}

/** Runs the steps newest first; every step runs even if one above it failed; the failures are thrown together. */
async function unwind(stack: Stack): Promise<void> {
  const failures: Error[] = [];
  while (stack.steps.length > 0) {
    const { what, step } = stack.steps.pop()!;
    try {
      await withDeadline(Promise.resolve().then(step), cleanupStepDeadlineMs, `cleanup step "${what}"`);
    } catch (error) {
      failures.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanup steps failed: ${failures.map((f) => f.message).join('; ')}`);
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// The test helpers (CutMesh, DaemonProcess) put their undo steps on a test's
// cleanup stack (test/helpers/cleanup.ts); a benchmark phase is not a test,
// so it hands them these hooks and unwinds them itself when the phase ends
// (last in, first out: daemons stop before the relay they talk through).
import type { Hooks } from '../../test/helpers/cleanup.js';

export class PhaseHooks implements Hooks {
  private readonly steps: (() => unknown)[] = [];

  after(fn: () => unknown): void {
    this.steps.push(fn);
  }

  /** Runs the registered steps newest first; each runs even if one before it failed. */
  async unwind(): Promise<void> {
    while (this.steps.length > 0) {
      try {
        await this.steps.pop()!();
      } catch (error) {
        process.stderr.write(`  cleanup: ${(error as Error).message}\n`);
      }
    }
  }
}

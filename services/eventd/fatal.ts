// Fail-stop (DESIGN.md, "Storage"): a write that fails stops the daemon at
// once, loudly, rather than let it go on with memory ahead of disk. Nothing
// of the failed work has been announced (the event log announces only after
// commit), and nothing else runs: no graceful stop, which would write more.
import type { Logger } from './logger.js';

/** Called with what failed; never returns control to work that depends on the failed write. */
export type FatalHandler = (error: unknown, what: string) => void;

/** Exit status of a fail-stop: EX_IOERR from sysexits.h. */
export const fatalExitCode = 74;

export function exitOnFatal(logger: Logger): FatalHandler {
  let stopping = false;
  return (error, what) => {
    if (stopping) return;
    stopping = true;
    const reason = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: error, what }, `stopping: ${what} failed to commit (${reason}); nothing of it was announced`);
    process.exit(fatalExitCode);
  };
}

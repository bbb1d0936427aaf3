// Everything the benchmark starts (daemons, agents, load processes, temp
// folders) registers how to undo it here, so a normal end, an error or
// Ctrl-C all leave nothing behind. Undo actions are synchronous: they also
// run from the process's 'exit' handler.

const actions = new Set<() => void>();

/** Registers an undo action; the returned function unregisters it (after undoing by hand). */
export function onCleanup(action: () => void): () => void {
  actions.add(action);
  return () => actions.delete(action);
}

/** Runs every registered action once, newest first. */
export function runCleanup(): void {
  for (const action of [...actions].reverse()) {
    actions.delete(action);
    try {
      action();
    } catch {
      // best effort: one failed undo must not keep the others from running
    }
  }
}

export function installCleanupHandlers(): void {
  process.on('exit', runCleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything the benchmark started\n`);
      runCleanup();
      process.exit(130);
    });
  }
}

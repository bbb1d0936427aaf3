// The shapes shared by the producer host and its runners: what a loaded
// plugin is, what it is handed, and how a runner reports back.
import type { Logger } from '../logger.js';
import type { ProducerManifest } from '../types.js';

/** How a producer failed, the `kind` label of eventd_producer_errors_total. */
export type ProducerErrorKind = 'throw' | 'timeout' | 'crash' | 'exit' | 'garbage';

/** Every bound the host applies to a producer, in one place. */
export const producerLimits = {
  /** Periodic executables: stdout read per run; past it the rest is skipped (one garbage). */
  runOutputBytes: 1024 * 1024,
  /** Stream executables: one line; a longer one is skipped (one garbage). */
  lineBytes: 1024 * 1024,
  /** stderr (and a module's console output) logged per chunk, truncated past this. */
  logChunkBytes: 1024,
  /** A fresh module worker may take this long to import the module and run start(). */
  bootAllowanceMs: 5000,
  /** On sleep: how long stop() (module) or SIGTERM (stream) gets before the hard kill. */
  stopGraceMs: 1000,
  /** Old-generation heap of a module worker; past it the worker dies (a crash). */
  workerHeapMb: 128,
  /** Stream restart backoff: first delay (bounded by the period), cap, and the uptime that resets it. */
  restartMinMs: 100,
  restartFirstMaxMs: 1000,
  restartMaxMs: 60_000,
  restartResetAfterMs: 30_000,
  /** How often plugin dirs are rescanned; a change is applied once a folder held still for one interval. */
  pluginRescanMs: 1000,
  /** A resource name longer than this is garbage. */
  resourceChars: 1024,
} as const;

/** A plugin folder that passed loading. */
export interface LoadedProducer {
  readonly manifest: ProducerManifest;
  /** Absolute path of the plugin folder. */
  readonly folder: string;
  readonly kind: 'module' | 'exec';
  /** Absolute path of index.js / index.mjs, or of the executable. */
  readonly entry: string;
}

/** What a producer is handed: `ctx` of a module, EVENTD_* variables of an executable. */
export interface ProducerContext {
  node: string;
  procRoot: string;
  /** Root of the sys file system (/sys), for what /proc does not hold. */
  sysRoot: string;
  /** The daemon's data folder (the Node producer reads the cluster's member table there); absent in a dry run. */
  dataDir?: string;
  periodMs: number;
  /** `producers.<Class>` from config, `{}` when absent. */
  config: Record<string, unknown>;
}

/** How a runner reports to the host; the host validates, counts, logs and forwards. */
export interface ProducerReporter {
  readonly logger: Logger;
  /** A period (or, for a stream, a process start) began. */
  run(): void;
  /** Raw values to check against the manifest, and problems already found (each one a garbage count). */
  output(values: unknown[], garbage: string[]): void;
  failure(kind: Exclude<ProducerErrorKind, 'garbage'>, message: string): void;
  /** An executable's process group started and ended (for reaping orphans after a kill -9 of the daemon). */
  spawned?(pid: number): void;
  exited?(pid: number): void;
}

/** One periodic producer (module, or executable in periodic mode), driven by the schedule. */
export interface PeriodicRunner {
  /**
   * One run. Calls `started` when the producer's own work begins (at once,
   * or once a fresh worker has booted); resolves when the run is over and its
   * output reported. Never rejects.
   */
  run(started: () => void): Promise<void>;
  /** The run in flight overran its deadline (the host counted the timeout): kill it. */
  expire(): void;
  /** Whether the next run starts at once (false while a fresh worker must boot first). */
  warm(): boolean;
  /** Sleep: end the run in flight, call stop() where there is one, release everything. */
  close(): Promise<void>;
}

/** `text` cut to `max` characters, marked when cut. */
export function truncate(text: string, max: number = producerLimits.logChunkBytes): string {
  return text.length <= max ? text : text.slice(0, max) + '…';
}

// Host side of a module producer: one worker thread per awake module, reused
// from period to period while it behaves; terminated when it hangs, fails to
// boot or dies, and replaced by a fresh one at the next period.
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  producerLimits,
  truncate,
  type LoadedProducer,
  type PeriodicRunner,
  type ProducerContext,
  type ProducerReporter,
} from './contract.js';
import type { HostMessage, WorkerInput, WorkerMessage } from './module-worker.js';

/** The compiled worker script, beside this file in the outDir. */
const workerScript = new URL('./module-worker.js', import.meta.url);

interface PendingRun {
  id: number;
  started: () => void;
  resolve: () => void;
  sent: boolean;
}

interface WorkerHandle {
  worker: Worker;
  ready: boolean;
  /** Terminated by us, or died: nothing more is reported for it. */
  done: boolean;
  exited: Promise<void>;
  pending?: PendingRun | undefined;
  onStopped?: (error: string | undefined) => void;
}

export class ModuleRunner implements PeriodicRunner {
  private current: WorkerHandle | undefined;
  private nextId = 0;

  constructor(
    private readonly producer: LoadedProducer,
    private readonly ctx: ProducerContext,
    private readonly reporter: ProducerReporter,
  ) {}

  warm(): boolean {
    return this.current?.ready === true;
  }

  run(started: () => void): Promise<void> {
    const handle = this.current ?? this.spawn();
    return new Promise<void>((resolve) => {
      handle.pending = { id: ++this.nextId, started, resolve, sent: false };
      if (handle.ready) this.send(handle);
    });
  }

  expire(): void {
    if (this.current) this.discard(this.current);
  }

  async close(): Promise<void> {
    const handle = this.current;
    if (!handle || handle.done) return;
    this.current = undefined;
    // stop() runs after the sample() in flight, if any; a hung worker gets the grace period, then terminate.
    const error = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve('stop() did not finish in time'), producerLimits.stopGraceMs);
      handle.onStopped = (stopError) => {
        clearTimeout(timer);
        resolve(stopError);
      };
      handle.worker.postMessage({ type: 'stop' } satisfies HostMessage);
    });
    if (error !== undefined) this.reporter.logger.warn({ problem: error }, 'producer stop failed');
    this.discard(handle);
    await handle.exited;
  }

  private spawn(): WorkerHandle {
    const input: WorkerInput = { url: pathToFileURL(this.producer.entry).href, ctx: this.ctx };
    const worker = new Worker(workerScript, {
      workerData: input,
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: producerLimits.workerHeapMb },
    });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const handle: WorkerHandle = { worker, ready: false, done: false, exited };
    this.current = handle;
    const logger = this.reporter.logger;
    worker.stdout.on('data', (chunk: Buffer) => logger.debug({ output: truncate(chunk.toString('utf8')) }, 'producer stdout'));
    worker.stderr.on('data', (chunk: Buffer) => logger.warn({ output: truncate(chunk.toString('utf8')) }, 'producer stderr'));
    worker.on('message', (message: WorkerMessage) => this.receive(handle, message));
    worker.on('error', (error: Error) => this.died(handle, `worker died: ${error.name}: ${error.message}`));
    worker.on('exit', (code: number) => this.died(handle, `worker exited with code ${code}`));
    return handle;
  }

  private receive(handle: WorkerHandle, message: WorkerMessage): void {
    if (message.type === 'stopped') {
      handle.onStopped?.(message.error);
      return;
    }
    if (handle.done) return;
    switch (message.type) {
      case 'ready':
        handle.ready = true;
        if (handle.pending && !handle.pending.sent) this.send(handle);
        return;
      case 'bootFailed':
        this.reporter.failure('throw', `loading the module or start() failed: ${message.message}`);
        this.discard(handle);
        return;
      case 'samples':
        if (handle.pending?.id !== message.id) return;
        if (Array.isArray(message.samples)) this.reporter.output(message.samples, []);
        else this.reporter.output([], [`sample() must return an array, got ${message.samples === null ? 'null' : typeof message.samples}`]);
        this.finish(handle);
        return;
      case 'failed':
        if (handle.pending?.id !== message.id) return;
        if (message.kind === 'throw') this.reporter.failure('throw', `sample() failed: ${message.message}`);
        else this.reporter.output([], [message.message]);
        this.finish(handle);
        return;
    }
  }

  private send(handle: WorkerHandle): void {
    const pending = handle.pending;
    if (!pending) return;
    pending.sent = true;
    pending.started();
    handle.worker.postMessage({ type: 'sample', id: pending.id } satisfies HostMessage);
  }

  private finish(handle: WorkerHandle): void {
    const pending = handle.pending;
    handle.pending = undefined;
    pending?.resolve();
  }

  /** The worker died on its own (uncaught error, process.exit, out of memory). */
  private died(handle: WorkerHandle, message: string): void {
    handle.onStopped?.(undefined);
    if (handle.done) return;
    this.reporter.failure('crash', message);
    this.discard(handle);
  }

  /** Forget the worker and end its run; terminating an exited worker is harmless. */
  private discard(handle: WorkerHandle): void {
    handle.done = true;
    if (this.current === handle) this.current = undefined;
    this.finish(handle);
    void handle.worker.terminate();
  }
}

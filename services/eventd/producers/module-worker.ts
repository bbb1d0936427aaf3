// The generic worker script: runs one module producer in its own thread, so
// a module that throws, hangs, exits or crashes takes only this thread down.
// The host terminates it when it does not answer in time.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ProducerContext } from './contract.js';

/** From host to worker. */
export type HostMessage = { type: 'sample'; id: number } | { type: 'stop' };

/** From worker to host. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'bootFailed'; message: string }
  | { type: 'samples'; id: number; samples: unknown }
  | { type: 'failed'; id: number; kind: 'throw' | 'garbage'; message: string }
  | { type: 'stopped'; error?: string };

export interface WorkerInput {
  /** file: URL of the module's index.js / index.mjs. */
  url: string;
  ctx: ProducerContext;
}

interface ModuleProducer {
  start?(ctx: ProducerContext): unknown;
  sample(ctx: ProducerContext): unknown;
  stop?(ctx: ProducerContext): unknown;
}

if (parentPort !== null) serve(parentPort, workerData as WorkerInput);

function serve(port: MessagePort, input: WorkerInput): void {
  const post = (message: WorkerMessage): void => port.postMessage(message);
  const booted = boot(input, post);
  // One request at a time, in order: stop() never runs beside a sample().
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: HostMessage) => {
    queue = queue.then(() => handle(message));
  });

  async function handle(message: HostMessage): Promise<void> {
    const producer = await booted;
    if (message.type === 'stop') {
      let error: string | undefined;
      try {
        if (producer?.stop) await producer.stop(input.ctx);
      } catch (thrown) {
        error = describe(thrown);
      }
      post(error === undefined ? { type: 'stopped' } : { type: 'stopped', error });
      return;
    }
    if (producer === undefined) return; // bootFailed was sent; the host terminates this worker.
    let samples: unknown;
    try {
      samples = await producer.sample(input.ctx);
    } catch (thrown) {
      post({ type: 'failed', id: message.id, kind: 'throw', message: describe(thrown) });
      return;
    }
    try {
      post({ type: 'samples', id: message.id, samples });
    } catch (thrown) {
      // Functions, symbols and the like cannot cross threads: the output is garbage.
      post({ type: 'failed', id: message.id, kind: 'garbage', message: `sample() returned what cannot be sent: ${describe(thrown)}` });
    }
  }
}

async function boot(input: WorkerInput, post: (message: WorkerMessage) => void): Promise<ModuleProducer | undefined> {
  try {
    const loaded = (await import(input.url)) as { default?: unknown };
    const producer = loaded.default;
    if (!isProducer(producer)) throw new Error('the default export has no sample() function');
    if (producer.start) await producer.start(input.ctx);
    post({ type: 'ready' });
    return producer;
  } catch (thrown) {
    post({ type: 'bootFailed', message: describe(thrown) });
    return undefined;
  }
}

function isProducer(value: unknown): value is ModuleProducer {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['sample'] === 'function' &&
    (candidate['start'] === undefined || typeof candidate['start'] === 'function') &&
    (candidate['stop'] === undefined || typeof candidate['stop'] === 'function')
  );
}

function describe(thrown: unknown): string {
  return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
}

// Answering a query on this node: the handler configured under
// queries.<name> runs the way an action's script runs (actions/run-script.ts:
// its own process group, killed at its timeout with what it started, output
// bounded, as actions.user when one is configured), the payload on stdin, its
// stdout the answer. At most queryBounds.maxRunning run at once.
import type { ScriptOptions, ScriptRun } from '../actions/run-script.js';
import { runScript } from '../actions/run-script.js';
import type { QueryHandlerSpec } from '../config.js';
import type { Account } from '../system/accounts.js';
import { queryBounds, type HandlerAnswer, type QueryFailure } from './query-frames.js';

export interface QueryHandlersOptions {
  node: string;
  handlers: Readonly<Record<string, QueryHandlerSpec>>;
  /** actions.user: handlers run as this user, like actions; the daemon's own when absent. */
  user?: Account;
}

export interface QueryJob {
  id: string;
  name: string;
  from: string;
  payload: string;
  /** The query's own timeout: a handler never runs longer (nor longer than its configured timeout). */
  timeoutMs: number;
}

/** The marker OutputCapture appends when it dropped output (actions/output.ts). */
const truncatedMarker = /\n\[truncated \d+ bytes\]$/;

export class QueryHandlers {
  private readonly running = new Set<ScriptRun>();

  constructor(private readonly options: QueryHandlersOptions) {}

  has(name: string): boolean {
    return Object.hasOwn(this.options.handlers, name);
  }

  /** Runs the handler of `job.name`; never rejects (every failure is an answer with `failure`). */
  async answer(job: QueryJob): Promise<HandlerAnswer> {
    const spec = Object.hasOwn(this.options.handlers, job.name) ? this.options.handlers[job.name] : undefined;
    if (spec === undefined) return failure('no-handler', `no handler for query "${job.name}" on ${this.options.node} (queries.${job.name} in its config)`);
    if (this.running.size >= queryBounds.maxRunning) return failure('busy', `${queryBounds.maxRunning} query handlers already running on ${this.options.node}`);
    const timeoutMs = Math.min(spec.timeoutMs, job.timeoutMs);
    const { user } = this.options;
    const options: ScriptOptions = {
      run: spec.run,
      args: spec.args,
      env: this.env(job),
      input: job.payload,
      timeoutMs,
      outputLimitBytes: queryBounds.maxOutputBytes,
      // A handler answers and is done: what it leaves running is ended with it, like an action that does not detach.
      detach: false,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    };
    const run = runScript(options);
    this.running.add(run);
    try {
      const result = await run.result;
      const truncated = truncatedMarker.test(result.stdout);
      const output = result.stdout.replace(truncatedMarker, '');
      if (result.error !== null) return { ...failure('failed', `handler ${spec.run} could not run: ${result.error}`), output };
      if (result.status === 'timeout') return { output, truncated, exitCode: result.exitCode, failure: 'timeout', message: `handler killed at its timeout (${timeoutMs} ms)` };
      return { output, truncated, exitCode: result.exitCode };
    } finally {
      this.running.delete(run);
    }
  }

  /** Kills every running handler (shutdown). */
  killAll(): void {
    for (const run of this.running) run.kill();
  }

  private env(job: QueryJob): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    return { ...env, EVENTD_QUERY_ID: job.id, EVENTD_QUERY_NAME: job.name, EVENTD_QUERY_FROM: job.from, EVENTD_NODE: this.options.node };
  }
}

function failure(kind: QueryFailure, message: string): HandlerAnswer {
  return { output: '', truncated: false, exitCode: null, failure: kind, message };
}

// One attempt of one run, whatever its kind: a script, a webhook or an e-mail.
import { parseDuration } from '../duration.js';
import type { ActionRun } from '../store/action-runs.js';
import type { EventRecord } from '../types.js';
import { emptyResult, failedAttempt, message, type AttemptRun } from './attempt.js';
import { sendEmail, type SmtpSettings } from './email.js';
import { actionEnv } from './env.js';
import { runScript, type ScriptOptions } from './run-script.js';
import { sendWebhook } from './webhook.js';

export interface AttemptContext {
  /** The events the run carries (one, or a batch), in order; missing ones are left out. */
  events: (id: string) => EventRecord | undefined;
  outputLimitBytes: number;
  smtp: SmtpSettings | undefined;
  /** User, cgroup, detach and process-group record of a script run (the dispatcher's placement). */
  script: ScriptPlacement;
}

export type ScriptPlacement = Pick<ScriptOptions, 'uid' | 'gid' | 'detach' | 'cgroup' | 'onGroupStarted' | 'onGroupEnded'>;

/** Starts attempt `attempt` of `row`. Never throws: a run that cannot start is a failed attempt. */
export function startAttempt(row: ActionRun, attempt: number, context: AttemptContext): AttemptRun {
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(row.spec.timeout, 'timeout');
  } catch (err) {
    return failedAttempt(message(err), false);
  }
  const ids = row.batch ?? [row.eventId];
  const events = ids.map((id) => context.events(id)).filter((event): event is EventRecord => event !== undefined);
  const first = events[0];
  if (first === undefined) return failedAttempt(`event ${row.eventId} not found (pruned before its action ran?)`, false);
  // A batch is one array (ERRM -b); a single event is the object itself.
  const payload = row.batch === null ? JSON.stringify(first) : JSON.stringify(events);
  const spec = row.spec;
  if ('webhook' in spec) return sendWebhook(spec.webhook, payload, row.eventId, timeoutMs, context.outputLimitBytes);
  if ('email' in spec) return sendEmail(context.smtp, spec.email, events, `${row.eventId}.${row.id}`, timeoutMs);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  Object.assign(env, actionEnv(first), { EVENTD_ACTION_ATTEMPT: String(attempt) }, row.batch === null ? {} : { EVENTD_BATCH_SIZE: String(events.length) });
  const script = runScript({
    run: spec.run,
    args: spec.args ?? [],
    env,
    input: payload + '\n',
    timeoutMs,
    outputLimitBytes: context.outputLimitBytes,
    ...context.script,
    ...(spec.expectedExit === undefined ? {} : { expectedExit: spec.expectedExit }),
  });
  // Every script failure is retried (a missing script may be installed, a busy one may succeed).
  return { result: script.result.then((r) => ({ ...emptyResult, ...r, retryable: true })), cancel: () => script.kill() };
}

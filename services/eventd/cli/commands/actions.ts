// actions: the audit of script actions run for events.
import type { Command } from 'commander';
import type { ActionRunInfo, ActionRunList } from '../../api/responses.js';
import { actionTarget } from '../action-text.js';
import { contextOf } from '../context.js';
import { formatDuration, formatTime, none, orNone, table, timeMs } from '../format.js';
import { positiveInteger } from '../options.js';

interface ActionsOptions {
  subscription?: string;
  event?: string;
  limit?: number;
}

export function actionCommands(program: Command): void {
  program
    .command('actions')
    .description('list action runs (scripts, webhooks, e-mails), oldest first: status, result, attempts, and why a run was skipped')
    .option('--subscription <id-or-name>', 'only runs for this subscription')
    .option('--event <id>', 'only runs for this event')
    .option('--limit <n>', 'at most this many runs (the daemon has a default)', positiveInteger)
    .action(async (options: ActionsOptions, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<ActionRunList>('/v1/actions', {
        subscription: options.subscription, event: options.event, limit: options.limit,
      });
      if (context.json) return context.writeJson(result);
      // The API answers newest first (so --limit keeps the newest); shown oldest first, like subscriptions and events.
      const rows = [...result.actions].sort((x, y) => Number(x.id) - Number(y.id)).map(actionRow);
      context.write(table(['ID', 'EVENT', 'STATUS', 'RESULT', 'ATTEMPT', 'ACTION', 'RESPONSE', 'STARTED', 'DURATION', 'WHY'], rows));
    });
}

function actionRow(run: ActionRunInfo): string[] {
  return [
    String(run.id), run.eventId, run.status, exitText(run), orNone(run.attempt), actionTarget(run.spec), run.response ?? none,
    formatTime(run.startedAt), durationText(run), whyText(run),
  ];
}

/** The exit code, HTTP status or SMTP reply code, else the signal that ended it. */
function exitText(run: ActionRunInfo): string {
  if (run.exitCode !== null && run.exitCode !== undefined) return `exit ${run.exitCode}`;
  if (run.httpStatus !== null && run.httpStatus !== undefined) return `HTTP ${run.httpStatus}`;
  if (run.smtpReply) return `SMTP ${run.smtpReply.split(' ')[0] ?? ''}`;
  if (run.signal) return run.signal;
  return none;
}

/** Why it did not run (silenced: ID, outside-window, ...), why it stopped, or when it is tried next. */
function whyText(run: ActionRunInfo): string {
  if (run.reason) return run.detail ? `${run.reason}: ${run.detail}` : run.reason;
  if (run.status === 'retrying' && run.nextAt) return `retry at ${formatTime(run.nextAt)}${run.error ? `: ${run.error}` : ''}`;
  return run.error ?? none;
}

function durationText(run: ActionRunInfo): string {
  const started = timeMs(run.startedAt);
  const ended = timeMs(run.endedAt);
  if (started === undefined) return none;
  if (ended === undefined) return `${formatDuration(Date.now() - started)}+`;
  return formatDuration(ended - started);
}

// actions: the audit of script actions run for events.
import type { Command } from 'commander';
import type { ActionRunInfo, ActionRunList } from '../../api/responses.js';
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
    .description('list script action runs: status, exit code, duration')
    .option('--subscription <id-or-name>', 'only runs for this subscription')
    .option('--event <id>', 'only runs for this event')
    .option('--limit <n>', 'at most this many runs (the daemon has a default)', positiveInteger)
    .action(async (options: ActionsOptions, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<ActionRunList>('/v1/actions', {
        subscription: options.subscription, event: options.event, limit: options.limit,
      });
      if (context.json) return context.writeJson(result);
      context.write(table(['ID', 'EVENT', 'STATUS', 'EXIT', 'ATTEMPT', 'RUN', 'STARTED', 'DURATION'], result.actions.map(actionRow)));
    });
}

function actionRow(run: ActionRunInfo): string[] {
  return [
    String(run.id), run.eventId, run.status, exitText(run), orNone(run.attempt), run.spec.run, formatTime(run.startedAt), durationText(run),
  ];
}

/** The exit code, else the signal that ended it, else why it never ran. */
function exitText(run: ActionRunInfo): string {
  if (run.exitCode !== null && run.exitCode !== undefined) return String(run.exitCode);
  if (run.signal) return run.signal;
  return none;
}

function durationText(run: ActionRunInfo): string {
  const started = timeMs(run.startedAt);
  const ended = timeMs(run.endedAt);
  if (started === undefined) return none;
  if (ended === undefined) return `${formatDuration(Date.now() - started)}+`;
  return formatDuration(ended - started);
}

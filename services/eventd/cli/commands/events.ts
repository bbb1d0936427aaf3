// events: list the event log, or follow it live (--follow).
import type { Command } from 'commander';
import type { EventRecord } from '../../types.js';
import type { EventList } from '../../api/responses.js';
import { contextOf } from '../context.js';
import { exitUsage } from '../errors.js';
import { follow } from '../follow.js';
import { compactAttrs, formatTime, orNone, table } from '../format.js';
import { positiveInteger } from '../options.js';

interface EventsOptions {
  since?: string;
  class?: string;
  subscription?: string;
  limit?: number;
  follow?: boolean;
  internal?: boolean;
}

const headers = ['ID', 'TIME', 'TYPE', 'SUBSCRIPTION', 'CLASS', 'NODE', 'RESOURCE', 'ATTRS'];

export function eventCommands(program: Command): void {
  program
    .command('events')
    .description('list events, oldest first, or follow them as they happen')
    .option('--since <id>', 'only events after this event id')
    .option('--class <class>', 'only events of this resource class')
    .option('--subscription <id-or-name>', 'only events of this subscription')
    .option('--limit <n>', 'at most this many events (the daemon has a default)', positiveInteger)
    .option('--internal', "include the consumers' internal records (FailoverVote, FailoverNode)")
    .option('-f, --follow', 'keep printing events as they happen (one per line); Ctrl-C to stop')
    .action(async (options: EventsOptions, command: Command) => {
      const context = contextOf(command);
      if (options.follow) {
        if (options.limit !== undefined) command.error('error: --limit does not apply to --follow', { exitCode: exitUsage });
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await follow({
            client: context.client,
            query: { class: options.class, subscription: options.subscription, ...(options.internal ? { internal: 'true' } : {}) },
            since: options.since,
            signal: stop.signal,
            onEvent: (event) => context.write(context.json ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`),
            onNotice: (message) => process.stderr.write(`eventctl: ${message}\n`),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return;
      }
      const result = await context.client.get<EventList>('/v1/events', {
        since: options.since, class: options.class, subscription: options.subscription, limit: options.limit,
        ...(options.internal ? { internal: 'true' } : {}),
      });
      if (context.json) return context.writeJson(result);
      context.write(table(headers, result.events.map(eventRow)));
    });
}

function eventRow(event: EventRecord): string[] {
  return [
    event.id, formatTime(event.time), event.type, orNone(event.subscriptionName ?? event.subscription),
    event.class, event.node, event.resource, compactAttrs(event.attrs),
  ];
}

/** One event on one line, the table's columns without alignment (later lines are not known yet). */
export function eventLine(event: EventRecord): string {
  // eslint-disable-next-line no-control-regex -- control characters from a producer must not reach the terminal
  return eventRow(event).map((value) => orNone(value).replace(/[\u0000-\u001f\u007f]+/g, ' ')).join('  ');
}

// events: list the event log, or follow it live (--follow).
import type { Command } from 'commander';
import type { EventRecord } from '../../types.js';
import type { EventList } from '../../api/responses.js';
import { contextOf } from '../context.js';
import { exitUsage } from '../errors.js';
import { follow } from '../follow.js';
import { compactAttrs, formatTime, orNone, table } from '../format.js';
import { nonNegativeInteger, positiveInteger } from '../options.js';
import { parseDuration, isDuration } from '../../duration.js';
import type { EventdClient, Query } from '../client.js';

interface EventsOptions {
  since?: string;
  class?: string;
  subscription?: string;
  limit?: number;
  tail?: number;
  fromStart?: boolean;
  follow?: boolean;
  internal?: boolean;
}

/** `--since`: an event id (n1:42), a duration back from now (10m), or a time (2025-01-02T03:04:05Z). */
type Since = { id: string } | { from: string } | undefined;

function sinceOf(value: string | undefined, now = Date.now()): Since {
  if (value === undefined) return undefined;
  if (isDuration(value)) return { from: new Date(now - parseDuration(value, '--since')).toISOString() };
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(Date.parse(value))) return { from: new Date(Date.parse(value)).toISOString() };
  return { id: value };
}

// POSITION: an agreed event's index in the cluster's agreed sequence (the same on every node); "-" for the others.
const headers = ['ID', 'POSITION', 'TIME', 'TYPE', 'SUBSCRIPTION', 'CLASS', 'NODE', 'RESOURCE', 'ATTRS'];

export function eventCommands(program: Command): void {
  program
    .command('events')
    .description('list events, oldest first, or follow them as they happen')
    .option('--since <id|duration|time>', 'only events after this event id, or sampled in the last 10m / since 2025-01-02T03:04:05Z')
    .option('--class <class>', 'only events of this resource class')
    .option('--subscription <id-or-name>', 'only events of this subscription')
    .option('--limit <n>', 'at most this many events (the daemon has a default)', positiveInteger)
    .option('--tail <n>', 'only the last n events (with --follow: then the new ones)', nonNegativeInteger)
    .option('--from-start', 'with --follow: the whole log first (by default --follow starts at the end)')
    .option('--internal', "include the consumers' internal records (FailoverVote, FailoverNode)")
    .option('-f, --follow', 'keep printing events as they happen (one per line), from now on; Ctrl-C to stop')
    .action(async (options: EventsOptions, command: Command) => {
      const context = contextOf(command);
      const since = sinceOf(options.since);
      const starts = [options.since !== undefined, options.tail !== undefined, options.fromStart === true].filter(Boolean).length;
      if (starts > 1) command.error('error: use one of --since, --tail and --from-start', { exitCode: exitUsage });
      if (options.fromStart && !options.follow) command.error('error: --from-start applies to --follow (a plain listing starts at the start)', { exitCode: exitUsage });
      const filter = { class: options.class, subscription: options.subscription, ...(options.internal ? { internal: 'true' } : {}) };
      const print = (event: EventRecord) => context.write(context.json ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`);
      if (options.follow) {
        if (options.limit !== undefined) command.error('error: --limit does not apply to --follow', { exitCode: exitUsage });
        // Where the stream starts: resolved to an event id here when it can be, so a reconnect resumes after it.
        let after: string | undefined;
        let query: Query = filter;
        if (since !== undefined && 'id' in since) after = since.id;
        else if (since !== undefined) query = { ...filter, from: since.from };
        else if (!options.fromStart) {
          const tail = options.tail ?? 0;
          const latest = await lastEvents(context.client, filter, Math.max(tail, 1));
          if (tail > 0) for (const event of latest.slice(-tail)) print(event);
          after = latest.at(-1)?.id;
        }
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await follow({
            client: context.client,
            query,
            since: after,
            signal: stop.signal,
            onEvent: print,
            onNotice: (message) => process.stderr.write(`eventctl: ${message}\n`),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return;
      }
      const result = await context.client.get<EventList>('/v1/events', {
        ...filter,
        ...(since === undefined ? {} : 'id' in since ? { since: since.id } : { from: since.from }),
        ...(options.tail === undefined ? {} : { tail: options.tail }),
        limit: options.limit ?? options.tail,
      });
      if (context.json) return context.writeJson(result);
      context.write(table(headers, result.events.map(eventRow)));
      const last = result.events.at(-1);
      if (result.more === true && last !== undefined) {
        process.stderr.write(`eventctl: the list was cut at ${result.events.length} events; the next ones: eventctl events --since ${last.id} (or --limit N, --tail N)\n`);
      }
    });
}

/** The last `count` events matching the filter, oldest first. */
async function lastEvents(client: EventdClient, filter: Query, count: number): Promise<EventRecord[]> {
  return (await client.get<EventList>('/v1/events', { ...filter, tail: count, limit: count })).events;
}

function eventRow(event: EventRecord): string[] {
  return [
    event.id, event.position === undefined ? '' : String(event.position), formatTime(event.time), event.type, orNone(event.subscriptionName ?? event.subscription),
    event.class, event.node, event.resource, compactAttrs(event.attrs),
  ];
}

/** One event on one line, the table's columns without alignment (later lines are not known yet). */
export function eventLine(event: EventRecord): string {
  // eslint-disable-next-line no-control-regex -- control characters from a producer must not reach the terminal
  return eventRow(event).map((value) => orNone(value).replace(/[\u0000-\u001f\u007f]+/g, ' ')).join('  ');
}

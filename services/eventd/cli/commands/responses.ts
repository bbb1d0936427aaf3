// responses [show NAME] | responses create NAME ... | responses delete NAME
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { NamedResponse, ResponseWindow } from '../../types.js';
import type { ResponseList } from '../../api/responses.js';
import { actionTarget, actionText } from '../action-text.js';
import { segment } from '../client.js';
import { contextOf, type CliContext } from '../context.js';
import { exitUsage } from '../errors.js';
import { keyValues, none, table } from '../format.js';
import { collect, onTypes, positiveInteger } from '../options.js';

interface CreateOptions {
  webhook?: string[];
  header?: string[];
  method?: string;
  email?: string[];
  subject?: string;
  run?: string[];
  timeout?: string;
  on?: string[];
  days?: string;
  start?: string;
  end?: string;
  timeZone?: string;
  expectedExit?: number;
  maxAttempts?: number;
  maxAge?: string;
  where?: string;
  batch?: string;
  batchMax?: number;
}

export function responseCommands(program: Command): void {
  const responses = program
    .command('responses')
    .description('named responses (webhooks, e-mails, scripts) that subscriptions run: list, show, create, delete')
    .action(async (_options: unknown, command: Command) => list(contextOf(command)));

  responses
    .command('show')
    .description('show one response, or list them all')
    .argument('[name]', 'response name')
    .action(async (name: string | undefined, _options: unknown, command: Command) => {
      const context = contextOf(command);
      if (name === undefined) return list(context);
      const response = await context.client.get<NamedResponse>(`/v1/responses/${segment(name)}`);
      if (context.json) return context.writeJson(response);
      context.write(describe(response));
    });

  responses
    .command('create')
    .description('create a named response: one or more --webhook, --email, --run actions, an optional window')
    .argument('<name>', 'unique name, e.g. page-oncall')
    .option('--webhook <url>', 'POST the event JSON to this http(s) URL (repeatable)', collect)
    .option('--header <name: value>', 'header sent with each webhook delivery (repeatable)', collect)
    .option('--method <method>', 'webhook method: POST (default), PUT or PATCH')
    .option('--email <address>', 'mail the event to this address (repeatable; one message to all)', collect)
    .option('--subject <text>', 'subject of the e-mail')
    .option('--run <path>', 'executable to run, the event on stdin (repeatable)', collect)
    .option('--timeout <duration>', 'time limit of one attempt, e.g. 10s')
    .option('--on <types>', 'which events: event, rearm or event,rearm', onTypes)
    .option('--days <days>', 'window days, e.g. Mon-Fri')
    .option('--start <HH:MM>', 'window start, e.g. 08:00')
    .option('--end <HH:MM>', 'window end, e.g. 18:00')
    .option('--time-zone <zone>', 'window time zone, e.g. Europe/Paris (default UTC)')
    .option('--expected-exit <code>', 'exit code of --run scripts that means success (default 0)', (value: string) => Number.parseInt(value, 10))
    .option('--max-attempts <n>', 'attempts before giving up', positiveInteger)
    .option('--max-age <duration>', 'no attempt later than this after the event, e.g. 1h')
    .option('--where <placement>', 'owner (default), origin or all')
    .option('--batch <interval>', 'collect the events of this long (e.g. 1m) and give each action one array (ERRM -b)')
    .option('--batch-max <n>', 'with --batch: leave at once with this many events (default 100)', positiveInteger)
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const context = contextOf(command);
      const body = responseRequest(name, options, process.cwd());
      if (body.actions.length === 0) command.error('error: give at least one --webhook, --email or --run', { exitCode: exitUsage });
      if (options.batchMax !== undefined && options.batch === undefined) command.error('error: --batch-max needs --batch <interval>', { exitCode: exitUsage });
      const created = await context.client.post<NamedResponse>('/v1/responses', body);
      if (context.json) return context.writeJson(created);
      context.write(`created response ${created.name}\n${describe(created)}`);
    });

  responses
    .command('delete')
    .description('delete a response no subscription names')
    .argument('<name>', 'response name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.delete<{ deleted: NamedResponse }>(`/v1/responses/${segment(name)}`);
      if (context.json) return context.writeJson(result);
      context.write(`deleted response ${result.deleted.name}\n`);
    });
}

async function list(context: CliContext): Promise<void> {
  const result = await context.client.get<ResponseList>('/v1/responses');
  if (context.json) return context.writeJson(result);
  context.write(table(['NAME', 'ACTIONS', 'WINDOW', 'NODE'], result.responses.map((r) => [r.name, r.actions.map(actionTarget).join(','), windowText(r.window), r.node])));
}

export function responseRequest(name: string, options: CreateOptions, cwd: string): { name: string; actions: Record<string, unknown>[]; window?: ResponseWindow; expectedExit?: number; batch?: { interval: string; maxEvents?: number } } {
  const common = {
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.on === undefined ? {} : { on: options.on }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
    ...(options.where === undefined ? {} : { where: options.where }),
  };
  const headers = Object.fromEntries((options.header ?? []).map((line) => {
    const at = line.indexOf(':');
    return at < 0 ? [line.trim(), ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  }));
  const actions: Record<string, unknown>[] = [
    ...(options.webhook ?? []).map((url) => ({
      webhook: { url, ...(options.method === undefined ? {} : { method: options.method.toUpperCase() }), ...(options.header === undefined ? {} : { headers }) },
      ...common,
    })),
    ...(options.email === undefined ? [] : [{ email: { to: options.email, ...(options.subject === undefined ? {} : { subject: options.subject }) }, ...common }]),
    // The daemon runs elsewhere, with another cwd: send absolute paths.
    ...(options.run ?? []).map((run) => ({ run: resolve(cwd, run), ...common })),
  ];
  const window: ResponseWindow = {
    ...(options.days === undefined ? {} : { days: options.days }),
    ...(options.start === undefined ? {} : { start: options.start }),
    ...(options.end === undefined ? {} : { end: options.end }),
    ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
  };
  return {
    name,
    actions,
    ...(Object.keys(window).length === 0 ? {} : { window }),
    ...(options.expectedExit === undefined ? {} : { expectedExit: options.expectedExit }),
    ...(options.batch === undefined ? {} : { batch: { interval: options.batch, ...(options.batchMax === undefined ? {} : { maxEvents: options.batchMax }) } }),
  };
}

function windowText(window: ResponseWindow | undefined): string {
  if (window === undefined) return none;
  return `${window.days ?? 'every day'} ${window.start ?? '00:00'}-${window.end ?? '24:00'} ${window.timeZone ?? 'UTC'}`;
}

function describe(response: NamedResponse): string {
  return keyValues([
    ['name', response.name],
    ['window', windowText(response.window)],
    ['expected exit', response.expectedExit === undefined ? none : String(response.expectedExit)],
    ['batch', response.batch === undefined ? none : `${response.batch.interval} or ${response.batch.maxEvents} events`],
    ['node', response.node],
    ['created', response.createdAt],
    ...response.actions.map((action, i): [string, string] => [`action ${i + 1}`, actionText(action)]),
  ]);
}

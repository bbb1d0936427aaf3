// subscribe, unsubscribe, subscriptions.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { ActionSpec, EventType, Order, Scope, Subscription, SubscriptionSpec } from '../../types.js';
import type { DeletedSubscription, SubscriptionList } from '../api-types.js';
import { segment } from '../client.js';
import { contextOf } from '../context.js';
import { exitUsage } from '../errors.js';
import { keyValues, none, table } from '../format.js';
import { collect, forClause, onTypes, scope } from '../options.js';

interface SubscribeOptions {
  name: string;
  class: string;
  expr: string;
  rearm?: string;
  for?: number | string;
  where?: string;
  scope?: Scope;
  order?: Order;
  run?: string[];
  timeout?: string;
  on?: EventType[];
}

/** What the CLI sends: scope, order and action fields it was not given are left to the daemon's defaults. */
type SubscriptionRequest = Omit<SubscriptionSpec, 'scope' | 'order' | 'actions'> & {
  scope?: Scope;
  order?: Order;
  actions: (Pick<ActionSpec, 'run'> & Partial<ActionSpec>)[];
};

export function subscriptionCommands(program: Command): void {
  program
    .command('subscribe')
    .description('create a subscription: a threshold expression over a resource class, and actions to run')
    .requiredOption('--name <name>', 'unique name of the subscription')
    .requiredOption('--class <class>', 'resource class, e.g. FileSystem')
    .requiredOption('--expr <expr>', 'JSONata threshold over the sample attributes, e.g. "percentUsed > 90"')
    .option('--rearm <expr>', 'rearm expression (default: the threshold no longer holds)')
    .option('--for <n>', 'hold for N samples, "M of N" samples, or a duration such as 30s', forClause)
    .option('--where <expr>', 'JSONata filter choosing the resources')
    .option('--scope <scope>', 'local, cluster, or node names separated by commas', scope)
    .addOption(new Option('--order <order>', 'event delivery order').choices(['fifo', 'agreed']))
    .option('--run <path>', 'executable to run on an event (repeatable); relative paths are resolved here', collect)
    .option('--timeout <duration>', 'time limit for each --run action, e.g. 10s')
    .option('--on <types>', 'which events run the actions: event, rearm or event,rearm', onTypes)
    .action(async (options: SubscribeOptions, command: Command) => {
      if ((options.timeout !== undefined || options.on !== undefined) && (options.run ?? []).length === 0) {
        command.error('error: --timeout and --on apply to --run actions; give at least one --run', { exitCode: exitUsage });
      }
      const context = contextOf(command);
      const created = await context.client.post<Subscription>('/v1/subscriptions', subscriptionRequest(options, process.cwd()));
      if (context.json) return context.writeJson(created);
      context.write(`created subscription ${created.name} (${created.id})\n${describeSubscription(created)}`);
    });

  program
    .command('unsubscribe')
    .description('delete a subscription')
    .argument('<id-or-name>', 'subscription id or name')
    .action(async (idOrName: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.delete<DeletedSubscription>(`/v1/subscriptions/${segment(idOrName)}`);
      if (context.json) return context.writeJson(result);
      const deleted = result.deleted;
      context.write(deleted ? `deleted subscription ${deleted.name} (${deleted.id})\n` : `deleted subscription ${idOrName}\n`);
    });

  program
    .command('subscriptions')
    .description('list subscriptions')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<SubscriptionList>('/v1/subscriptions');
      if (context.json) return context.writeJson(result);
      context.write(subscriptionTable(result.subscriptions));
    });
}

export function subscriptionRequest(options: SubscribeOptions, cwd: string): SubscriptionRequest {
  return {
    name: options.name,
    class: options.class,
    expr: options.expr,
    ...(options.rearm === undefined ? {} : { rearm: options.rearm }),
    ...(options.for === undefined ? {} : { for: options.for }),
    ...(options.where === undefined ? {} : { where: options.where }),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.order === undefined ? {} : { order: options.order }),
    // The daemon runs elsewhere, with another cwd: send absolute paths.
    actions: (options.run ?? []).map((run) => ({
      run: resolve(cwd, run),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.on === undefined ? {} : { on: options.on }),
    })),
  };
}

function subscriptionTable(subscriptions: readonly Subscription[]): string {
  const rows = subscriptions.map((s) => [
    s.id, s.name, s.class, s.expr, s.rearm ?? none, s.for === undefined ? none : String(s.for), scopeText(s.scope), actionsText(s.actions),
  ]);
  return table(['ID', 'NAME', 'CLASS', 'EXPR', 'REARM', 'FOR', 'SCOPE', 'ACTIONS'], rows);
}

function describeSubscription(s: Subscription): string {
  return keyValues([
    ['id', s.id],
    ['name', s.name],
    ['class', s.class],
    ['expr', s.expr],
    ['rearm', s.rearm ?? none],
    ['for', s.for === undefined ? none : String(s.for)],
    ['where', s.where ?? none],
    ['scope', scopeText(s.scope)],
    ['order', s.order ?? none],
    ['node', s.node ?? none],
    ...(s.actions ?? []).map((action, i): [string, string] => [`action ${i + 1}`, actionText(action)]),
  ]);
}

function scopeText(value: Scope | undefined): string {
  if (value === undefined) return none;
  return Array.isArray(value) ? value.join(',') : value;
}

function actionsText(actions: readonly ActionSpec[] | undefined): string {
  return actions === undefined || actions.length === 0 ? none : actions.map((action) => action.run).join(',');
}

function actionText(action: ActionSpec): string {
  const parts = [action.run, ...(action.args ?? [])];
  const extra = [action.timeout ? `timeout ${action.timeout}` : '', action.on ? `on ${action.on.join(',')}` : ''].filter(Boolean);
  return extra.length === 0 ? parts.join(' ') : `${parts.join(' ')} (${extra.join(', ')})`;
}

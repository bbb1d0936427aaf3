// subscribe, unsubscribe, subscriptions.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { ActionSpec, CrossingType, Order, RunAction, Scope, Subscription, SubscriptionSpec } from '../../types.js';
import { actionTarget, actionText } from '../action-text.js';
import type { AcceptedSubscription, DeletedSubscription, ListedSubscription, Preset, PresetList, SubscriptionList } from '../../api/responses.js';
import { segment } from '../client.js';
import { contextOf, type CliContext } from '../context.js';
import { exitUsage } from '../errors.js';
import { keyValues, none, table } from '../format.js';
import { collect, forClause, onTypes, scope } from '../options.js';
import { showSubscription, subscriptionStateCommands, writeWarnings } from './subscription-show.js';

interface SubscribeOptions {
  preset?: string;
  name?: string;
  class?: string;
  expr?: string;
  rearm?: string;
  for?: number | string;
  where?: string;
  scope?: Scope;
  order?: Order;
  run?: string[];
  timeout?: string;
  on?: CrossingType[];
  response?: string[];
}

/** What the CLI sends: scope, order and action fields it was not given are left to the daemon's defaults. */
type SubscriptionRequest = Omit<SubscriptionSpec, 'scope' | 'order' | 'actions'> & {
  scope?: Scope;
  order?: Order;
  actions: (Pick<RunAction, 'run'> & Partial<RunAction>)[];
};

export function subscriptionCommands(program: Command): void {
  program
    .command('subscribe')
    .description('create a subscription: a threshold expression over a resource class, and actions to run')
    .option('--preset <preset>', 'start from a ready-made condition (eventctl presets); other flags override its fields')
    .option('--name <name>', 'unique name of the subscription (required without --preset)')
    .option('--class <class>', 'resource class, e.g. FileSystem (required without --preset)')
    .option('--expr <expr>', 'JSONata threshold over the sample attributes, e.g. "percentUsed > 90" (required without --preset)')
    .option('--rearm <expr>', 'rearm expression (default: the threshold no longer holds)')
    .option('--for <n>', 'hold for N samples, "M of N" samples, or a duration such as 30s', forClause)
    .option('--where <expr>', 'JSONata filter choosing the resources')
    .option('--scope <scope>', 'local, cluster, or node names separated by commas', scope)
    .addOption(new Option('--order <order>', 'event delivery order').choices(['fifo', 'agreed']))
    .option('--run <path>', 'executable to run on an event (repeatable); relative paths are resolved here', collect)
    .option('--timeout <duration>', 'time limit for each --run action, e.g. 10s')
    .option('--on <types>', 'which events run the actions: event, rearm or event,rearm', onTypes)
    .option('--response <name>', 'a named response to run (repeatable; eventctl responses create)', collect)
    .action(async (options: SubscribeOptions, command: Command) => {
      if ((options.timeout !== undefined || options.on !== undefined) && (options.run ?? []).length === 0) {
        command.error('error: --timeout and --on apply to --run actions; give at least one --run', { exitCode: exitUsage });
      }
      const context = contextOf(command);
      const merged = options.preset === undefined ? options : { ...(await presetFields(context, options.preset, options)), ...definedOnly(options) };
      const missing = (['name', 'class', 'expr'] as const).filter((key) => merged[key] === undefined);
      if (missing.length > 0) command.error(`error: missing ${missing.map((key) => `--${key}`).join(', ')} (or give --preset)`, { exitCode: exitUsage });
      const created = await context.client.post<AcceptedSubscription>('/v1/subscriptions', subscriptionRequest(merged as RequiredSubscribe, process.cwd()));
      writeWarnings(created.warnings);
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
    .command('presets')
    .description('list the ready-made conditions for subscribe --preset')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<PresetList>('/v1/presets');
      if (context.json) return context.writeJson(result);
      const rows = result.presets.map((p) => [p.name, p.subscription.class, p.subscription.expr, p.subscription.rearm ?? none, p.description]);
      context.write(table(['PRESET', 'CLASS', 'EXPR', 'REARM', 'DESCRIPTION'], rows));
    });

  program
    .command('subscriptions')
    .description('list subscriptions, oldest first; with a name, show that one with its status, errors and per-resource states')
    .argument('[id-or-name]', 'one subscription to show')
    .action(async (idOrName: string | undefined, _options: unknown, command: Command) => {
      const context = contextOf(command);
      if (idOrName !== undefined) return showSubscription(context, idOrName, describeSubscription);
      const result = await context.client.get<SubscriptionList>('/v1/subscriptions');
      if (context.json) return context.writeJson(result);
      context.write(subscriptionTable(result.subscriptions));
    });

  subscriptionStateCommands(program);
}

type RequiredSubscribe = SubscribeOptions & { name: string; class: string; expr: string };

/** A preset's subscription fields, as if given as flags. */
async function presetFields(context: CliContext, name: string, options: SubscribeOptions): Promise<Partial<SubscribeOptions>> {
  const preset = await context.client.get<Preset>(`/v1/presets/${segment(name)}`);
  const { rearm, ...fields } = preset.subscription;
  // A new --expr replaces the preset's threshold pair: its old rearm could hold beside the new expr and flap.
  return options.expr !== undefined && options.rearm === undefined ? fields : { ...fields, ...(rearm === undefined ? {} : { rearm }) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

export function subscriptionRequest(options: RequiredSubscribe, cwd: string): SubscriptionRequest {
  return {
    name: options.name,
    class: options.class,
    expr: options.expr,
    ...(options.rearm === undefined ? {} : { rearm: options.rearm }),
    ...(options.for === undefined ? {} : { for: options.for }),
    ...(options.where === undefined ? {} : { where: options.where }),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.order === undefined ? {} : { order: options.order }),
    ...(options.response === undefined ? {} : { responses: options.response }),
    // The daemon runs elsewhere, with another cwd: send absolute paths.
    actions: (options.run ?? []).map((run) => ({
      run: resolve(cwd, run),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.on === undefined ? {} : { on: options.on }),
    })),
  };
}

/** Oldest first, as `actions` and `events` list: what is newest is at the bottom, next to the prompt. */
function subscriptionTable(subscriptions: readonly ListedSubscription[]): string {
  const sorted = [...subscriptions].sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
  const rows = sorted.map((s) => [
    s.id, s.name, s.status ?? none, s.class, s.expr, s.rearm ?? none, s.for === undefined ? none : String(s.for), scopeText(s.scope), actionsText(s.actions),
    (s.responses ?? []).join(',') || none,
  ]);
  return table(['ID', 'NAME', 'STATUS', 'CLASS', 'EXPR', 'REARM', 'FOR', 'SCOPE', 'ACTIONS', 'RESPONSES'], rows);
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
    ...(s.responses ?? []).map((name, i): [string, string] => [`response ${i + 1}`, name]),
  ]);
}

function scopeText(value: Scope | undefined): string {
  if (value === undefined) return none;
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : `tags:${Object.entries(value.tags).map(([name, tag]) => `${name}=${tag}`).join(',')}`;
}

function actionsText(actions: readonly ActionSpec[] | undefined): string {
  return actions === undefined || actions.length === 0 ? none : actions.map(actionTarget).join(',');
}

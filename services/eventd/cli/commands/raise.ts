// event raise CLASS RESOURCE [--attr k=v ...]: Serf's `serf event`, typed by the class's declaration.
import { InvalidArgumentError, type Command } from 'commander';
import type { AttributeSpec, AttrValue } from '../../types.js';
import { contextOf } from '../context.js';
import { CliError, exitUsage } from '../errors.js';

interface RaiseOptions {
  attr: string[];
  order?: string;
  scope?: string;
  key?: string;
  type?: string;
  wait?: boolean;
}

interface ClassCatalog {
  classes: { class: string; attributes: Record<string, AttributeSpec> }[];
}

interface RaiseAnswer {
  id: string;
  duplicate: boolean;
  delivered: boolean;
  position?: number;
}

function collect(value: string, previous: string[]): string[] {
  if (!/^[^=]+=/.test(value)) throw new InvalidArgumentError('expected NAME=VALUE');
  return [...previous, value];
}

export function raiseCommands(program: Command): void {
  const event = program.command('event').description('put events into the log: raise');
  event
    .command('raise')
    .description('raise an event of a declared class (events.classes in config), like serf event')
    .argument('<class>', 'the declared event class, e.g. Deploy')
    .argument('<resource>', 'what it is about, e.g. web')
    .option('--attr <name=value>', 'an attribute (repeat for more); its value is read as the class declares it', collect, [])
    .option('--order <order>', 'fifo (default) or agreed: every node delivers agreed events in the same order')
    .option('--scope <scope>', 'local or cluster (the default in a cluster)')
    .option('--type <type>', 'event (default) or rearm')
    .option('--key <key>', 'idempotency key: raising again with the same key records nothing new')
    .option('--wait', "answer once the event is delivered in this node's log (agreed: once placed)")
    .action(async (className: string, resource: string, options: RaiseOptions, command: Command) => {
      const context = contextOf(command);
      const catalog = await context.client.get<ClassCatalog>('/v1/event-classes');
      const declared = catalog.classes.find((entry) => entry.class === className);
      if (!declared) {
        const names = catalog.classes.map((entry) => entry.class).join(', ');
        throw new CliError(`class ${className} is not declared (events.classes in the daemon's config${names === '' ? '' : `; declared: ${names}`})`, exitUsage);
      }
      const attrs: Record<string, AttrValue> = {};
      for (const pair of options.attr) {
        const at = pair.indexOf('=');
        const name = pair.slice(0, at);
        const spec = declared.attributes[name];
        if (!spec) throw new CliError(`--attr ${name}: class ${className} has no attribute "${name}" (it has: ${Object.keys(declared.attributes).join(', ') || 'none'})`, exitUsage);
        attrs[name] = typed(name, pair.slice(at + 1), spec.type);
      }
      const body = {
        class: className, resource, attrs,
        ...(options.order === undefined ? {} : { order: options.order }),
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        ...(options.type === undefined ? {} : { type: options.type }),
        ...(options.key === undefined ? {} : { key: options.key }),
      };
      const answer = await context.client.post<RaiseAnswer>(options.wait ? '/v1/events?wait=delivered' : '/v1/events', body);
      if (context.json) return context.writeJson(answer);
      const where = answer.position === undefined ? '' : ` at position ${answer.position}`;
      const state = answer.duplicate ? ' (already raised with this key)' : answer.delivered ? ` delivered${where}` : ' recorded, not delivered here yet';
      context.write(`${answer.id}${state}\n`);
    });
}

function typed(name: string, text: string, type: AttributeSpec['type']): AttrValue {
  if (type === 'string') return text;
  if (type === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new CliError(`--attr ${name}: expected true or false, got "${text}"`, exitUsage);
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new CliError(`--attr ${name}: expected a number, got "${text}"`, exitUsage);
  return value;
}

// classes, resources, status: what the daemon knows and how it is doing.
import { tagsText } from './tags.js';
import type { Command } from 'commander';
import type { AttributeSpec } from '../../types.js';
import type { ClassList, DaemonStatus, MemberList, ResourceList } from '../../api/responses.js';
import { contextOf } from '../context.js';
import { compactAttrs, formatDuration, formatTime, keyValues, none, orNone, table } from '../format.js';

export function daemonCommands(program: Command): void {
  program
    .command('classes')
    .description('list resource classes, their attributes, and whether their producer is awake')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<ClassList>('/v1/classes');
      if (context.json) return context.writeJson(result);
      const rows = result.classes.map((c) => [c.class, periodText(c), c.awake ? 'yes' : 'no', attributesText(c.attributes)]);
      context.write(table(['CLASS', 'PERIOD', 'AWAKE', 'ATTRIBUTES'], rows));
    });

  program
    .command('resources')
    .description('list the resources of a class with their latest sample')
    .argument('<class>', 'resource class, e.g. FileSystem')
    .action(async (className: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<ResourceList>('/v1/resources', { class: className });
      if (context.json) return context.writeJson(result);
      const rows = result.resources.map((r) => [r.node, r.resource, formatTime(r.time), compactAttrs(r.attrs)]);
      context.write(table(['NODE', 'RESOURCE', 'TIME', 'ATTRS'], rows));
    });

  program
    .command('members')
    .description("list the cluster's members as this node sees them")
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<MemberList>('/v1/members');
      if (context.json) return context.writeJson(result);
      const rows = result.members.map((m) => [
        m.name, m.state, orNone(m.address), m.incarnation === null ? none : String(m.incarnation), m.lastHeardMs === null ? none : `${m.lastHeardMs}ms`, tagsText(m.tags),
      ]);
      context.write(table(['NAME', 'STATE', 'ADDRESS', 'INCARNATION', 'LAST HEARD', 'TAGS'], rows));
    });

  program
    .command('status')
    .description("show the daemon's node, version, uptime and counters")
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const status = await context.client.get<DaemonStatus>('/v1/status');
      if (context.json) return context.writeJson(status);
      context.write(keyValues([
        ['node', status.node],
        ['version', status.version],
        ['uptime', `${formatDuration(status.uptimeS * 1000)} (${status.uptimeS}s)`],
        ['subscriptions', String(status.subscriptions)],
        ['producers awake', status.producersAwake.length === 0 ? none : status.producersAwake.join(', ')],
        ['events', String(status.events.count)],
        ['last event', orNone(status.events.lastId)],
        ['actions pending', String(status.actions.pending)],
        ['actions running', String(status.actions.running)],
      ]));
    });
}

/** `percentUsed:number(%) mount:string`. */
function attributesText(attributes: Record<string, AttributeSpec>): string {
  const parts = Object.entries(attributes).map(([name, spec]) => `${name}:${spec.type}${spec.unit ? `(${spec.unit})` : ''}`);
  return parts.length === 0 ? none : parts.join(' ');
}

/** The period in use; when the config changed it, the manifest's default beside it. */
function periodText(c: { periodMs: number; defaultPeriodMs?: number }): string {
  const period = formatDuration(c.periodMs);
  return c.defaultPeriodMs === undefined ? period : `${period} (configured; default ${formatDuration(c.defaultPeriodMs)})`;
}

// silence add | silence expire ID | silences
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Silence } from '../../types.js';
import type { SilenceList } from '../../api/responses.js';
import { segment } from '../client.js';
import { contextOf } from '../context.js';
import { exitUsage } from '../errors.js';
import { formatTime, none, table } from '../format.js';

interface AddOptions {
  subscription?: string;
  class?: string;
  node?: string;
  resource?: string;
  for?: string;
  until?: string;
  start?: string;
  comment: string;
  by?: string;
}

export function silenceCommands(program: Command): void {
  const silence = program.command('silence').description('mute the responses of matching events for a while: add, expire');

  silence
    .command('add')
    .description('add a silence: matching events are still logged, their responses do not run')
    .option('--subscription <name-or-id>', 'only events of this subscription')
    .option('--class <class>', 'only events of this resource class, e.g. FileSystem')
    .option('--node <node>', 'only events about resources of this node')
    .option('--resource <resource>', 'only events of this resource, e.g. /dev/sda2')
    .option('--for <duration>', 'how long, e.g. 2h')
    .option('--until <time>', 'when it ends, ISO 8601 (instead of --for)')
    .option('--start <time>', 'when it begins, ISO 8601 (default now)')
    .requiredOption('--comment <text>', 'why, for whoever reads the audit')
    .option('--by <who>', 'who made it (default: your user name)')
    .action(async (options: AddOptions, command: Command) => {
      if (![options.subscription, options.class, options.node, options.resource].some((value) => value !== undefined)) {
        command.error('error: give at least one of --subscription, --class, --node, --resource', { exitCode: exitUsage });
      }
      const context = contextOf(command);
      const matchers = Object.fromEntries(Object.entries({ subscription: options.subscription, class: options.class, node: options.node, resource: options.resource })
        .filter(([, value]) => value !== undefined));
      const created = await context.client.post<Silence>('/v1/silences', {
        matchers,
        ...(options.start === undefined ? {} : { startsAt: options.start }),
        ...(options.until === undefined ? {} : { endsAt: options.until }),
        ...(options.for === undefined ? {} : { duration: options.for }),
        comment: options.comment,
        createdBy: options.by ?? userInfo().username,
      });
      if (context.json) return context.writeJson(created);
      context.write(`silence ${created.id} until ${created.endsAt}\n`);
    });

  silence
    .command('expire')
    .description('end a silence now')
    .argument('<id>', 'silence id (eventctl silences)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.delete<{ expired: Silence }>(`/v1/silences/${segment(id)}`);
      if (context.json) return context.writeJson(result);
      context.write(`silence ${result.expired.id} expired at ${result.expired.endsAt}\n`);
    });

  program
    .command('silences')
    .description('list silences, active and pending (--expired: the ended ones too)')
    .option('--expired', 'include expired silences')
    .action(async (options: { expired?: boolean }, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<SilenceList>('/v1/silences', options.expired ? { expired: 'true' } : {});
      if (context.json) return context.writeJson(result);
      context.write(table(['ID', 'STATE', 'MATCHERS', 'STARTS', 'ENDS', 'BY', 'COMMENT'], result.silences.map((s) => [
        s.id, s.state, Object.entries(s.matchers).map(([key, value]) => `${key}=${value}`).join(' ') || none, formatTime(s.startsAt), formatTime(s.endsAt), s.createdBy, s.comment,
      ])));
    });
}

// inhibit [list] | inhibit add --when-class Node --when-state down ... | inhibit delete ID
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { InhibitRuleList } from '../../api/responses.js';
import type { InhibitRuleInfo } from '../../responses/inhibit-rules.js';
import type { StoredInhibitRule } from '../../types.js';
import { segment } from '../client.js';
import { contextOf, type CliContext } from '../context.js';
import { none, table } from '../format.js';

interface AddOptions {
  whenClass: string;
  whenState?: string;
  whenSubscription?: string;
  muteClass?: string;
  anyNode?: boolean;
  comment: string;
  by?: string;
}

export function inhibitCommands(program: Command): void {
  const inhibit = program
    .command('inhibit')
    .description('inhibition rules: while a source holds for a node (Node down), the responses of events about it do not run: list, add, delete')
    .action(async (_options: unknown, command: Command) => list(contextOf(command)));

  inhibit
    .command('list')
    .description('list the rules (config and API) and the nodes where each holds now')
    .action(async (_options: unknown, command: Command) => list(contextOf(command)));

  inhibit
    .command('add')
    .description('add a rule: events of --when-class (and state) start it, their rearm ends it; meanwhile events about that node are muted')
    .requiredOption('--when-class <class>', 'the source events\' class, e.g. Node')
    .option('--when-state <state>', 'only source events whose state attribute is this, e.g. down')
    .option('--when-subscription <name-or-id>', 'only source events of this subscription')
    .option('--mute-class <class>', 'mute only events of this class (default: every class)')
    .option('--any-node', 'mute events about every node while the source holds for one (default: the same node only)')
    .requiredOption('--comment <text>', 'why, for whoever reads the audit')
    .option('--by <who>', 'who made it (default: your user name)')
    .action(async (options: AddOptions, command: Command) => {
      const context = contextOf(command);
      const created = await context.client.post<StoredInhibitRule>('/v1/inhibit', {
        when: {
          class: options.whenClass,
          ...(options.whenState === undefined ? {} : { state: options.whenState }),
          ...(options.whenSubscription === undefined ? {} : { subscription: options.whenSubscription }),
        },
        mute: { sameNode: options.anyNode !== true, ...(options.muteClass === undefined ? {} : { class: options.muteClass }) },
        comment: options.comment,
        createdBy: options.by ?? userInfo().username,
      });
      if (context.json) return context.writeJson(created);
      context.write(`inhibit rule ${created.id}: ${whenText(created)} mutes ${muteText(created)}\n`);
    });

  inhibit
    .command('delete')
    .description('delete a rule made with inhibit add (the config\'s are changed in the config)')
    .argument('<id>', 'rule id (eventctl inhibit)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.delete<{ deleted: StoredInhibitRule }>(`/v1/inhibit/${segment(id)}`);
      if (context.json) return context.writeJson(result);
      context.write(`deleted inhibit rule ${result.deleted.id}\n`);
    });
}

async function list(context: CliContext): Promise<void> {
  const result = await context.client.get<InhibitRuleList>('/v1/inhibit');
  if (context.json) return context.writeJson(result);
  context.write(table(['ID', 'WHEN', 'MUTES', 'HOLDS FOR', 'BY', 'COMMENT'], result.rules.map((rule: InhibitRuleInfo) => [
    rule.id, whenText(rule), muteText(rule), rule.sources.map((source) => `${source.node} (${source.event})`).join(' ') || none,
    rule.origin === 'config' ? 'config' : rule.createdBy ?? none, rule.comment ?? none,
  ])));
}

function whenText(rule: Pick<InhibitRuleInfo, 'when'>): string {
  const { when } = rule;
  return [when.class, when.state, when.subscription === undefined ? undefined : `of ${when.subscription}`].filter((part) => part !== undefined).join(' ');
}

function muteText(rule: Pick<InhibitRuleInfo, 'mute'>): string {
  const what = rule.mute.class === undefined ? 'events' : `${rule.mute.class} events`;
  return rule.mute.sameNode === false ? `${what} about every node` : `${what} about that node`;
}

// tags | tags set name=value ... | tags delete name ...: this node's tags (serf tags -set / -delete).
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { CliError, exitUsage } from '../errors.js';
import { keyValues, none } from '../format.js';

interface TagsAnswer {
  node: string;
  tags: Record<string, string>;
}

/** `role=web dc=ams1` as a map; a pair without `=` is a usage error. */
function pairs(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at < 1) throw new CliError(`tag "${value}": expected NAME=VALUE`, exitUsage);
    tags[value.slice(0, at)] = value.slice(at + 1);
  }
  return tags;
}

export function tagsText(tags: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length === 0 ? none : entries.map(([name, value]) => `${name}=${value}`).join(',');
}

export function tagCommands(program: Command): void {
  const tags = program.command('tags').description("this node's tags (replicated to its peers): show, set, delete");
  const print = (command: Command, answer: TagsAnswer) => {
    const context = contextOf(command);
    if (context.json) return context.writeJson(answer);
    const entries = Object.entries(answer.tags);
    context.write(entries.length === 0 ? `${answer.node}: no tags\n` : keyValues(entries));
  };
  tags.action(async (_options: unknown, command: Command) => print(command, await contextOf(command).client.get<TagsAnswer>('/v1/tags')));
  tags
    .command('set')
    .description('set tags, e.g. role=db dc=ams1 (kept across restarts)')
    .argument('<name=value...>')
    .action(async (values: string[], _options: unknown, command: Command) => print(command, await contextOf(command).client.patch<TagsAnswer>('/v1/tags', { set: pairs(values) })));
  tags
    .command('delete')
    .description('delete tags by name')
    .argument('<name...>')
    .action(async (names: string[], _options: unknown, command: Command) => print(command, await contextOf(command).client.patch<TagsAnswer>('/v1/tags', { delete: names })));
}

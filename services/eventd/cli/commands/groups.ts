// eventctl groups / node / maintenance: the failover consumer's groups and
// the operator's controls (Pacemaker's pcs resource move/ban/clear,
// pcs node standby, unmanage, maintenance-mode). Each control is one POST;
// a move that cannot be satisfied is refused with the reason, and nothing
// is left behind.
import type { Command } from 'commander';
import type { GroupList } from '../../api/responses.js';
import { contextOf } from '../context.js';
import { CliError, exitUsage } from '../errors.js';
import { formatTime, none, orNone, table } from '../format.js';

interface ControlAnswer {
  id: string;
  control: { action: string; group?: string; node?: string; expiresAt?: number; on?: boolean };
}

function describe(answer: ControlAnswer): string {
  const { action, group, node, expiresAt, on } = answer.control;
  const what = action === 'maintenance' ? `maintenance ${on ? 'on' : 'off'}` : [action, group, node].filter(Boolean).join(' ');
  return `${what}${expiresAt === undefined ? '' : ` (until ${formatTime(expiresAt)})`}: agreed event ${answer.id}\n`;
}

const encode = encodeURIComponent;

export function groupCommands(program: Command): void {
  const groups = program
    .command('groups')
    .description("failover groups: where each runs, where placement wants it, constraints, fail counts and each node's last report");
  groups
    .command('list', { isDefault: true })
    .description('list the failover groups (the default)')
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      const result = await context.client.get<GroupList>('/v1/groups');
      if (context.json) return context.writeJson(result);
      const rows = result.groups.map((g) => [
        g.name, orNone(g.owner), orNone(g.target), g.managed === false ? `${g.local} (unmanaged)` : g.local,
        g.constraints.length === 0 ? none : g.constraints.map((c) => `${c.kind} ${c.node}${c.expiresAt === null ? '' : ` until ${formatTime(c.expiresAt)}`}`).join(', '),
        Object.keys(g.failures).length === 0 ? none : Object.entries(g.failures).map(([node, count]) => `${node}:${count}`).join(' '),
        // A node out of the view may have died running it: its last word is not shown as current.
        g.reports.length === 0 ? none : g.reports.map((r) => `${r.node}:${r.inView === false ? `${r.state}?(down)` : r.state}`).join(' '),
      ]);
      context.write(table(['GROUP', 'OWNER', 'PLACEMENT', 'HERE', 'CONSTRAINTS', 'FAILURES', 'REPORTS'], rows));
      for (const g of result.groups) if (g.why !== undefined) context.write(`${g.name}: ${g.why}\n`);
      const notes = [result.maintenance ? 'cluster in maintenance: no script runs' : '', result.standby.length > 0 ? `standby: ${result.standby.join(', ')}` : ''].filter(Boolean);
      if (notes.length > 0) context.write(`${notes.join('; ')}\n`);
    });
  const post = async (command: Command, path: string, body: Record<string, unknown>): Promise<void> => {
    const context = contextOf(command);
    const answer = await context.client.post<ControlAnswer>(path, body);
    if (context.json) return context.writeJson(answer);
    context.write(describe(answer));
  };
  for (const action of ['move', 'ban'] as const) {
    groups
      .command(`${action} <group> <node>`)
      .description(action === 'move' ? 'run GROUP on NODE (until cleared, or for --lifetime)' : 'keep GROUP off NODE (until cleared, or for --lifetime)')
      .option('--lifetime <duration>', 'the constraint expires after this, e.g. 30m')
      .action(async (group: string, node: string, options: { lifetime?: string }, command: Command) =>
        post(command, `/v1/groups/${encode(group)}/${action}`, { node, ...(options.lifetime === undefined ? {} : { lifetime: options.lifetime }) }));
  }
  for (const [action, description] of [
    ['clear', 'drop the moves and bans of GROUP'],
    ['unmanage', 'stop managing GROUP: no script runs, its state is still reported'],
    ['manage', 'manage GROUP again'],
  ] as const) {
    groups.command(`${action} <group>`).description(description).action(async (group: string, _options: unknown, command: Command) =>
      post(command, `/v1/groups/${encode(group)}/${action}`, {}));
  }
  groups
    .command('cleanup <group> [node]')
    .description("reset GROUP's fail counts (on NODE only, if given)")
    .action(async (group: string, node: string | undefined, _options: unknown, command: Command) =>
      post(command, `/v1/groups/${encode(group)}/cleanup`, node === undefined ? {} : { node }));

  const node = program.command('node').description('failover standby of a node');
  for (const [action, description] of [
    ['standby', 'move the groups off NODE; nothing new is placed there'],
    ['unstandby', 'let groups be placed on NODE again'],
  ] as const) {
    node.command(`${action} <node>`).description(description).action(async (name: string, _options: unknown, command: Command) =>
      post(command, `/v1/failover/nodes/${encode(name)}/${action}`, {}));
  }
  program
    .command('maintenance <state>')
    .description('on: no failover script runs anywhere (groups are left as they are); off: managed again')
    .action(async (state: string, _options: unknown, command: Command) => {
      if (state !== 'on' && state !== 'off') throw new CliError('maintenance: expected on or off', exitUsage);
      await post(command, '/v1/failover/maintenance', { on: state === 'on' });
    });
}

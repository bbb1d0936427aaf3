// `subscriptions NAME` (one subscription with its status, errors and
// per-resource states, like RSCT's lscondition) and `subscription enable|disable
// NAME` (like startcondresp / stopcondresp).
import type { Command } from 'commander';
import type { AcceptedSubscription, ExpressionWarningInfo, SubscriptionDetail } from '../../api/responses.js';
import { segment } from '../client.js';
import { contextOf, type CliContext } from '../context.js';
import { formatTime, keyValues, none, table } from '../format.js';

export async function showSubscription(context: CliContext, idOrName: string, describe: (s: SubscriptionDetail) => string): Promise<void> {
  const detail = await context.client.get<SubscriptionDetail>(`/v1/subscriptions/${segment(idOrName)}`);
  if (context.json) return context.writeJson(detail);
  const status: [string, string][] = [['status', detail.status ?? none]];
  if (detail.error) {
    status.push(
      ['error', detail.error.message],
      ['error code', detail.error.code],
      ['error at', `${formatTime(detail.error.at)} on ${detail.error.node}, resource ${detail.error.resource}`],
      ['error event', detail.error.event ?? none],
    );
  }
  status.push(['evaluation errors', String(detail.errors)]);
  let text = keyValues(status) + describe(detail);
  if (detail.states.length > 0) {
    const rows = detail.states.map((s) => [
      s.node, s.resource, s.state, s.lastEvent ?? none, String(s.errors), s.failing ? 'yes' : 'no', s.lastError ? `${formatTime(s.lastError.at)} ${s.lastError.message}` : none,
    ]);
    text += '\n' + table(['NODE', 'RESOURCE', 'STATE', 'LAST EVENT', 'ERRORS', 'FAILING', 'LAST ERROR'], rows);
  } else {
    text += '\nno resource evaluated yet\n';
  }
  context.write(text);
}

/** Warnings beside a 201 or 200, on stderr so --json stdout stays the API's JSON. */
export function writeWarnings(warnings: readonly ExpressionWarningInfo[] | undefined): void {
  for (const warning of warnings ?? []) {
    process.stderr.write(`eventctl: warning: ${warning.message}\n${warning.pointer.replace(/^/gm, '  ')}\n`);
  }
}

export function subscriptionStateCommands(program: Command): void {
  const subscription = program
    .command('subscription')
    .description('change one subscription: enable or disable it');
  for (const [verb, enabled, what] of [['enable', true, 'evaluate it again (and clear an error state)'], ['disable', false, 'keep it, but stop evaluating it']] as const) {
    subscription
      .command(verb)
      .description(`${verb} a subscription: ${what}`)
      .argument('<id-or-name>', 'subscription id or name')
      .action(async (idOrName: string, _options: unknown, command: Command) => {
        const context = contextOf(command);
        const changed = await context.client.patch<AcceptedSubscription>(`/v1/subscriptions/${segment(idOrName)}`, { enabled });
        if (context.json) return context.writeJson(changed);
        writeWarnings(changed.warnings);
        context.write(`${verb}d subscription ${changed.name} (${changed.id}): ${changed.status ?? none}\n`);
      });
  }
}

import type { ActionSpec } from '../types.js';

/** One word per action for tables: the script path, the webhook URL, mailto:addresses. */
export function actionTarget(action: ActionSpec): string {
  if ('webhook' in action) return action.webhook.url;
  if ('email' in action) return `mailto:${action.email.to.join(',')}`;
  return action.run;
}

/** An action in full, for `show`. */
export function actionText(action: ActionSpec): string {
  const head = 'webhook' in action ? `${action.webhook.method} ${action.webhook.url}`
    : 'email' in action ? `mail ${action.email.to.join(', ')}${action.email.subject ? ` "${action.email.subject}"` : ''}`
    : [action.run, ...(action.args ?? [])].join(' ');
  const extra = [
    action.timeout ? `timeout ${action.timeout}` : '',
    action.on ? `on ${action.on.join(',')}` : '',
    action.where && action.where !== 'owner' ? `where ${action.where}` : '',
    'run' in action && action.expectedExit !== undefined ? `expect exit ${action.expectedExit}` : '',
  ].filter(Boolean);
  return extra.length === 0 ? head : `${head} (${extra.join(', ')})`;
}

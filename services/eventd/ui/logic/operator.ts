// What the console's operator buttons send and say before they send it:
// the failover controls (consumers/failover/routes.ts) and silences
// (api/routes/silences.ts). Pure, so the wording and the requests are
// tested under node without a browser.
import type { ConsoleEvent, GroupView } from './types.js';

export type GroupAction = 'move' | 'ban' | 'clear' | 'unmanage' | 'manage' | 'cleanup';
export type NodeAction = 'standby' | 'unstandby';

/** One control: the request it makes and the sentence the confirmation shows. */
export interface ControlRequest {
  path: string;
  body: Record<string, string | boolean>;
  /** The button's verb ("Move web"), also the dialog's title. */
  title: string;
  /** What will happen, in the operator's words. */
  consequence: string;
}

const segment = encodeURIComponent;

export function groupControl(action: GroupAction, group: string, options: { node?: string; lifetime?: string } = {}): ControlRequest {
  const { node, lifetime } = options;
  const path = `/groups/${segment(group)}/${action}`;
  const body: Record<string, string> = {};
  if (node !== undefined && node !== '') body['node'] = node;
  if ((action === 'move' || action === 'ban') && lifetime !== undefined && lifetime !== '') body['lifetime'] = lifetime;
  const span = body['lifetime'] === undefined ? 'until cleared' : `for ${body['lifetime']}`;
  switch (action) {
    case 'move':
      return { path, body, title: `Move ${group} to ${node ?? '?'}`, consequence: `${group} is stopped where it runs and started on ${node ?? '?'}; it stays there ${span}.` };
    case 'ban':
      return { path, body, title: `Ban ${group} from ${node ?? '?'}`, consequence: `${group} never runs on ${node ?? '?'} ${span}; if it runs there now, it is stopped and placed elsewhere.` };
    case 'clear':
      return { path, body, title: `Clear ${group}'s moves and bans`, consequence: `Every move and ban of ${group} is dropped; it stays where it runs now.` };
    case 'unmanage':
      return { path, body, title: `Unmanage ${group}`, consequence: `No start or stop script runs for ${group} until it is managed again; what runs keeps running, and a failure is not taken over.` };
    case 'manage':
      return { path, body, title: `Manage ${group}`, consequence: `Failover takes ${group} back: it may be started, stopped or moved to match the placement.` };
    case 'cleanup':
      return {
        path,
        body,
        title: `Clean up ${group}${body['node'] ? ` on ${body['node']}` : ''}`,
        consequence: `${group}'s fail counts${body['node'] ? ` on ${body['node']}` : ' on every node'} are reset, so placement may start it there again.`,
      };
  }
}

export function nodeControl(action: NodeAction, node: string): ControlRequest {
  const path = `/failover/nodes/${segment(node)}/${action}`;
  return action === 'standby'
    ? { path, body: {}, title: `Put ${node} in standby`, consequence: `Every group running on ${node} is stopped there and started elsewhere; nothing new is placed on ${node}.` }
    : { path, body: {}, title: `Take ${node} out of standby`, consequence: `${node} may run groups again (groups stay where they run unless failback is on).` };
}

export function maintenanceControl(on: boolean): ControlRequest {
  return on
    ? { path: '/failover/maintenance', body: { on }, title: 'Enter maintenance', consequence: 'No failover script runs anywhere in the cluster: nothing is started, stopped or taken over until maintenance ends.' }
    : { path: '/failover/maintenance', body: { on }, title: 'Leave maintenance', consequence: 'Failover acts again: groups may be started, stopped or moved to match the placement.' };
}

/** "move n3 until 14:05:10", "ban n2" (until cleared). */
export function constraintText(constraint: GroupView['constraints'][number], clock: (epochMs: number) => string): string {
  return `${constraint.kind} ${constraint.node}${constraint.expiresAt === null ? '' : ` until ${clock(constraint.expiresAt)}`}`;
}

/** The nodes a control may name: the view's members, and whoever reported a group or is in standby. */
export function knownNodes(members: readonly string[], groups: readonly GroupView[], standby: readonly string[]): string[] {
  return [...new Set([...members, ...groups.flatMap((group) => group.reports.map((report) => report.node)), ...standby])].sort();
}

export interface SilenceFormValues {
  subscription: string;
  class: string;
  node: string;
  resource: string;
  duration: string;
  comment: string;
}

export type SilenceDraft = { body: Record<string, unknown> } | { errors: Map<keyof SilenceFormValues | 'matchers', string> };

/**
 * The POST /v1/silences body from the form, or the form's own errors where
 * the daemon would refuse it for sure (no matcher, no comment, no end): said
 * at the field, before a round trip. What it lets through the daemon checks.
 */
export function silenceDraft(values: SilenceFormValues, createdBy?: string): SilenceDraft {
  const errors = new Map<keyof SilenceFormValues | 'matchers', string>();
  const matchers: Record<string, string> = {};
  for (const key of ['subscription', 'class', 'node', 'resource'] as const) if (values[key].trim() !== '') matchers[key] = values[key].trim();
  if (Object.keys(matchers).length === 0) errors.set('matchers', 'matchers: name at least one of condition, class, node or resource (a silence of everything is refused)');
  if (values.duration.trim() === '') errors.set('duration', 'duration: how long it lasts, e.g. 2h or 30m');
  if (values.comment.trim() === '') errors.set('comment', 'comment: say why (it is shown to whoever wonders why nothing paged)');
  if (errors.size > 0) return { errors };
  return { body: { matchers, duration: values.duration.trim(), comment: values.comment.trim(), ...(createdBy === undefined ? {} : { createdBy }) } };
}

/** "condition swap-high, node n1". */
export function matchersText(matchers: Partial<Record<'subscription' | 'class' | 'node' | 'resource', string>>): string {
  const names = { subscription: 'condition', class: 'class', node: 'node', resource: 'resource' } as const;
  return (Object.keys(names) as (keyof typeof names)[]).filter((key) => matchers[key] !== undefined).map((key) => `${names[key]} ${matchers[key]!}`).join(', ');
}

/** "in 1h 59m", "in 40s", "3m ago": how far a time is from now. */
export function fromNow(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  // Rounded to whole minutes before the split, so 1h 59m 50s reads "2h 0m", never "1h 60m".
  const minutes = Math.round(abs / 60_000);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)}s` : minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A failover event in a line: "web running on n2: moved by operator", "move web n3 (by n1)". */
export function failoverEventText(event: Pick<ConsoleEvent, 'class' | 'resource' | 'node' | 'attrs'>): string {
  const text = (key: string) => (typeof event.attrs[key] === 'string' || typeof event.attrs[key] === 'boolean' ? String(event.attrs[key]) : undefined);
  if (event.class === 'FailoverGroup') return `${event.resource} ${text('state') ?? '?'} on ${text('node') ?? event.node}${text('reason') ? `: ${text('reason')!}` : ''}`;
  if (event.class === 'FailoverControl') {
    const action = text('action') ?? '?';
    const what = action === 'maintenance' ? `maintenance ${text('on') === 'true' ? 'on' : 'off'}` : [action, text('group'), text('node')].filter(Boolean).join(' ');
    return `${what} (operator, through ${event.node})`;
  }
  if (event.class === 'FailoverFence') return `fence ${text('target') ?? '?'} from ${text('node') ?? event.node}: ${text('result') ?? '?'}`;
  return `${event.class} ${event.resource} on ${event.node}`;
}

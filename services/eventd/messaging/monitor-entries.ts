// What the monitor says about each thing it is fed: a committed event (an
// event, or a membership change when the cluster recorded it), a tag change,
// a suspicion, a log line. Pure functions: entries only, no feed, no clock
// but the entry's time.
import { clusterViewSubscription } from '../cluster/edge/agreed-records.js';
import { membershipSubscription } from '../cluster/edge/cluster-node.js';
import type { TappedLine } from '../logger.js';
import type { EventRecord } from '../types.js';
import type { MonitorEntry, MonitorLevel } from './monitor-feed.js';

/** A committed event: a member entry for the cluster's own membership records, an event entry for the rest. */
export function eventEntry(event: EventRecord): MonitorEntry {
  const time = new Date().toISOString();
  if (event.class === 'Node' && event.subscription === membershipSubscription.id) {
    const state = String(event.attrs['state'] ?? event.type);
    return { kind: 'member', level: state === 'down' ? 'warn' : 'info', time, class: 'Node', node: event.resource, message: `member ${event.resource} is ${state}`, data: { event } };
  }
  if (event.class === 'Cluster' && event.subscription === clusterViewSubscription.id) {
    const { epoch, members, joined, left } = event.attrs;
    const changes = [joined ? `joined ${String(joined)}` : '', left ? `left ${String(left)}` : ''].filter(Boolean).join('; ');
    return {
      kind: 'member', level: 'info', time, class: 'Cluster', node: event.node,
      message: `cluster view: epoch ${String(epoch)} of ${event.node} at position ${event.position ?? '-'}: ${String(members)}${changes ? ` (${changes})` : ''}`,
      data: { event },
    };
  }
  const where = event.position === undefined ? event.id : `${event.id} at position ${event.position}`;
  return {
    kind: 'event', level: 'info', time, class: event.class, node: event.node,
    message: `${event.type} ${event.class} ${event.resource}${attrsText(event.attrs)} (${where})`,
    data: { event },
  };
}

export function tagsEntry(node: string, tags: Readonly<Record<string, string>>): MonitorEntry {
  const text = Object.entries(tags).map(([name, value]) => `${name}=${value}`).join(',');
  return { kind: 'member', level: 'info', time: new Date().toISOString(), node, message: `member ${node} tags: ${text === '' ? '(none)' : text}`, data: { tags: { ...tags } } };
}

export function suspectEntry(node: string, silentMs: number): MonitorEntry {
  const heard = Number.isFinite(silentMs);
  return {
    kind: 'member', level: 'warn', time: new Date().toISOString(), node,
    message: `member ${node} is suspect: ${heard ? `not heard for ${Math.round(silentMs)} ms` : 'not heard since this daemon started'}`,
    data: { silentMs: heard ? Math.round(silentMs) : null },
  };
}

export function heardAgainEntry(node: string): MonitorEntry {
  return { kind: 'member', level: 'info', time: new Date().toISOString(), node, message: `member ${node} heard again`, data: {} };
}

/** pino's numbers: trace 10, debug 20, info 30, warn 40, error 50, fatal 60. */
export function levelOf(levelValue: number): MonitorLevel {
  if (levelValue >= 50) return 'error';
  if (levelValue >= 40) return 'warn';
  if (levelValue >= 30) return 'info';
  return 'debug';
}

/** The lowest pino level number a monitor level takes in. */
export function levelValueOf(level: MonitorLevel): number {
  return { debug: 0, info: 30, warn: 40, error: 50 }[level];
}

export function logEntry(line: TappedLine): MonitorEntry {
  const { node, ...fields } = line.fields;
  delete fields['msg'];
  return {
    kind: 'log', level: levelOf(line.levelValue), time: new Date().toISOString(), message: line.message,
    ...(typeof node === 'string' ? { node } : {}),
    data: jsonSafe(fields),
  };
}

/** Log fields as JSON can carry them: errors as their type and message, anything that does not serialise as its text. */
function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) safe[key] = { type: value.name, message: value.message };
    else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) safe[key] = value;
    else if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    else {
      try {
        safe[key] = JSON.parse(JSON.stringify(value)) as unknown;
      } catch {
        safe[key] = String(value);
      }
    }
  }
  return safe;
}

function attrsText(attrs: EventRecord['attrs']): string {
  const pairs = Object.entries(attrs).map(([key, value]) => `${key}=${typeof value === 'string' && /[\s=]/.test(value) ? JSON.stringify(value) : String(value)}`);
  return pairs.length === 0 ? '' : ` ${pairs.join(' ')}`;
}

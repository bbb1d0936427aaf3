// Inhibition (Alertmanager's inhibit_rules): while a source condition holds
// (a Node down event not yet followed by its up), the responses of events
// that the rule's `mute` matches are muted and audited `inhibited`, so one
// dead node pages once, not fifty times. Pure apart from its own memory,
// which follows the event log: observe() every event in log order.
import type { EventRecord, InhibitRule } from '../types.js';
import type { Mute } from './plan.js';

export type { InhibitRule };

/** The default rule of the README: a node that is down mutes the responses of events about that node. */
export const nodeDownRule: InhibitRule = { when: { class: 'Node', state: 'down' }, mute: { sameNode: true } };

/** The class whose resources are nodes: its events are about the node they name, wherever they were raised. */
const nodeClass = 'Node';

/** The node an event is about: a Node event's resource (a peer's probe names the peer), any other event's node. */
export function subjectNode(event: Pick<EventRecord, 'class' | 'node' | 'resource'>): string {
  return event.class === nodeClass ? event.resource : event.node;
}

/** Whether the event is of the rule's source kind: its class, subscription and state (Alertmanager's source matchers). */
function matchesWhen(rule: InhibitRule, event: EventRecord): boolean {
  const { when } = rule;
  if (event.class !== when.class) return false;
  if (when.subscription !== undefined && when.subscription !== event.subscription && when.subscription !== event.subscriptionName) return false;
  return when.state === undefined || event.attrs.state === when.state;
}

interface Source {
  /** The event that started it. */
  event: string;
  /** Its subscription: only a rearm of that one ends it. */
  subscription: string;
}

interface Entry {
  rule: InhibitRule;
  /** The nodes where the source holds now. */
  active: Map<string, Source>;
}

export interface InhibitState {
  id: string;
  rule: InhibitRule;
  sources: { node: string; event: string }[];
}

export class Inhibitor {
  /** By rule id, in the order they were added (config rules first). */
  private readonly rules = new Map<string, Entry>();

  constructor(rules: readonly { id: string; rule: InhibitRule }[] = []) {
    for (const { id, rule } of rules) this.rules.set(id, { rule, active: new Map() });
  }

  /**
   * Adds (or replaces) a rule; `history` (the log's latest events of its
   * source class, in log order) gives it the state it would have had.
   */
  add(id: string, rule: InhibitRule, history: Iterable<EventRecord>): void {
    const entry: Entry = { rule, active: new Map() };
    for (const event of history) follow(entry, event);
    this.rules.set(id, entry);
  }

  remove(id: string): void {
    this.rules.delete(id);
  }

  /** The classes whose events move a source (to replay the log at start). */
  sourceClasses(): string[] {
    return [...new Set([...this.rules.values()].map((entry) => entry.rule.when.class))];
  }

  observe(event: EventRecord): void {
    for (const entry of this.rules.values()) follow(entry, event);
  }

  /**
   * Why the event's responses are muted, if a rule's source holds for it. An
   * event of a rule's source kind is never muted by that rule (Alertmanager:
   * a source cannot inhibit itself), so the Node down event itself pages.
   */
  muting(event: EventRecord): Mute | undefined {
    for (const { rule, active } of this.rules.values()) {
      if (matchesWhen(rule, event)) continue;
      if (rule.mute.class !== undefined && rule.mute.class !== event.class) continue;
      const node = subjectNode(event);
      const held = rule.mute.sameNode === false ? [...active].at(0) : ([node, active.get(node)] as const);
      const source = held?.[1];
      if (held === undefined || source === undefined) continue;
      return { reason: 'inhibited', detail: `${rule.when.class}${rule.when.state ? ` ${rule.when.state}` : ''} ${held[0]} (event ${source.event})` };
    }
    return undefined;
  }

  /** Nodes where each rule's source holds (GET /v1/inhibit). */
  state(): InhibitState[] {
    return [...this.rules].map(([id, { rule, active }]) => ({ id, rule, sources: [...active].map(([node, source]) => ({ node, event: source.event })) }));
  }
}

/** One event moves one rule's source: an event of its kind starts it; the rearm of the subscription that started it, or another state, ends it. */
function follow(entry: Entry, event: EventRecord): void {
  const { rule, active } = entry;
  if (event.class !== rule.when.class || (event.type !== 'event' && event.type !== 'rearm')) return;
  const node = subjectNode(event);
  if (event.type === 'event' && matchesWhen(rule, event)) {
    if (!active.has(node)) active.set(node, { event: event.id, subscription: event.subscription });
    return;
  }
  const source = active.get(node);
  if (source === undefined) return;
  const otherState = rule.when.state !== undefined && event.attrs.state !== undefined && event.attrs.state !== rule.when.state;
  if (otherState || (event.type === 'rearm' && event.subscription === source.subscription)) active.delete(node);
}

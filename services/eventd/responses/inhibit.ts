// Inhibition (Alertmanager's inhibit_rules): while a source condition holds
// (a Node down event not yet followed by its up), the responses of events
// that the rule's `mute` matches are muted and audited `inhibited`, so one
// dead node pages once, not fifty times. Pure apart from its own memory,
// which follows the event log: observe() every event in log order.
import type { EventRecord } from '../types.js';
import type { Mute } from './plan.js';

export interface InhibitRule {
  /** The source: events of this class (with attrs.state equal to `state`, when given) start it; its rearm ends it. */
  when: { class: string; state?: string; subscription?: string };
  /** The targets: events about the source's node (sameNode), optionally only of one class. */
  mute: { sameNode?: boolean; class?: string };
}

/** The default rule of the README: a node that is down mutes the responses of events about that node. */
export const nodeDownRule: InhibitRule = { when: { class: 'Node', state: 'down' }, mute: { sameNode: true } };

export class Inhibitor {
  /** Per rule, the nodes where its source holds, with the event that started it. */
  private readonly active: Map<string, string>[];

  constructor(private readonly rules: readonly InhibitRule[]) {
    this.active = rules.map(() => new Map());
  }

  /** The classes whose events move a source (to replay the log at start). */
  sourceClasses(): string[] {
    return [...new Set(this.rules.map((rule) => rule.when.class))];
  }

  observe(event: EventRecord): void {
    this.rules.forEach((rule, index) => {
      const { when } = rule;
      if (event.class !== when.class) return;
      if (when.subscription !== undefined && when.subscription !== event.subscription && when.subscription !== event.subscriptionName) return;
      const holds = event.type === 'event' && (when.state === undefined || event.attrs.state === when.state);
      const active = this.active[index] as Map<string, string>;
      if (holds) active.set(event.node, event.id);
      else if (event.type === 'rearm' || (when.state !== undefined && event.attrs.state !== undefined && event.attrs.state !== when.state)) active.delete(event.node);
    });
  }

  /** Why the event's responses are muted, if a rule's source holds for it. A source's own events are never muted by it. */
  muting(event: EventRecord): Mute | undefined {
    for (const [index, rule] of this.rules.entries()) {
      if (event.class === rule.when.class) continue;
      if (rule.mute.class !== undefined && rule.mute.class !== event.class) continue;
      const source = rule.mute.sameNode === false ? [...(this.active[index] as Map<string, string>).values()][0] : this.active[index]?.get(event.node);
      if (source !== undefined) return { reason: 'inhibited', detail: `${rule.when.class}${rule.when.state ? ` ${rule.when.state}` : ''} ${event.node} (event ${source})` };
    }
    return undefined;
  }

  /** Nodes where each rule's source holds (GET /v1/inhibit). */
  state(): { rule: InhibitRule; sources: { node: string; event: string }[] }[] {
    return this.rules.map((rule, index) => ({ rule, sources: [...(this.active[index] as Map<string, string>)].map(([node, event]) => ({ node, event })) }));
  }
}

import { randomBytes } from 'node:crypto';
import type { ErrorObject } from 'ajv';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeErrors, validator } from '../schema.js';
import type { Store } from '../store/index.js';
import type { EventRecord, InhibitRule, StoredInhibitRule } from '../types.js';
import { Inhibitor } from './inhibit.js';
import type { Mute } from './plan.js';

/** Source events read back per class when a rule comes in (at start, or made later): enough for every node's latest up/down. */
export const inhibitReplay = 10_000;

export interface InhibitRuleServiceOptions {
  node: string;
  store: Store;
  logger: Logger;
  /** The config's rules (config inhibit): listed, consulted first, never deleted through the API. */
  configRules: readonly InhibitRule[];
  /** The cluster's replicated map; absent on a single node. */
  cluster?: { put(rule: StoredInhibitRule): void; delete(id: string): void };
}

/** A rule as GET /v1/inhibit lists it: where it comes from, and the nodes where its source holds now. */
export type InhibitRuleInfo = InhibitRule & {
  id: string;
  origin: 'config' | 'api';
  comment?: string;
  createdBy?: string;
  createdAt?: string;
  node?: string;
  sources: { node: string; event: string }[];
};

interface RuleBody {
  when: InhibitRule['when'];
  mute?: InhibitRule['mute'];
  comment: string;
  createdBy?: string;
}

/** The id of the config's rule at `index`: stable while the config is. */
export function configRuleId(index: number): string {
  return `config-${index + 1}`;
}

/**
 * Inhibition rules, from the config and made through the API (as silences
 * are: checked, persisted, replicated in a cluster). They feed one
 * Inhibitor, whose memory follows the event log; a rule made later learns
 * its state from the log's latest events of its source class.
 */
export class InhibitRuleService {
  private readonly byId = new Map<string, StoredInhibitRule>();
  private readonly inhibitor: Inhibitor;

  constructor(private readonly options: InhibitRuleServiceOptions) {
    this.inhibitor = new Inhibitor();
    options.configRules.forEach((rule, index) => this.inhibitor.add(configRuleId(index), rule, []));
  }

  /** Brings back this node's stored rules, then replays the log into every rule's state. */
  restore(): void {
    for (const rule of this.options.store.inhibitRules.all()) {
      this.byId.set(rule.id, rule);
      this.inhibitor.add(rule.id, ruleOf(rule), []);
    }
    for (const className of this.inhibitor.sourceClasses()) for (const event of this.history(className)) this.inhibitor.observe(event);
  }

  create(body: unknown, who: string, now = Date.now()): StoredInhibitRule {
    const input = this.validate(body);
    const rule: StoredInhibitRule = {
      id: randomBytes(6).toString('hex'),
      when: input.when,
      mute: input.mute ?? { sameNode: true },
      comment: input.comment,
      createdBy: input.createdBy ?? who,
      createdAt: new Date(now).toISOString(),
      node: this.options.node,
    };
    if (this.options.cluster) this.options.cluster.put(rule);
    else this.applyReplicated(rule.id, rule);
    this.options.logger.info({ rule: rule.id, when: rule.when, mute: rule.mute, createdBy: rule.createdBy }, 'inhibit rule created');
    return rule;
  }

  delete(id: string): StoredInhibitRule {
    if (this.isConfigRule(id)) {
      throw new EventdError('EVENTD_ERR_INHIBIT_RULE_IN_CONFIG', `inhibit rule "${id}" comes from the config (inhibit); change the config and restart to remove it`, { id });
    }
    const rule = this.byId.get(id);
    if (rule === undefined) throw new EventdError('EVENTD_ERR_INHIBIT_RULE_NOT_FOUND', `no inhibit rule with id "${id}"`, { id });
    if (this.options.cluster) this.options.cluster.delete(id);
    else this.applyReplicated(id, null);
    this.options.logger.info({ rule: id }, 'inhibit rule deleted');
    return rule;
  }

  list(): InhibitRuleInfo[] {
    return this.inhibitor.state().map(({ id, rule, sources }) => {
      const stored = this.byId.get(id);
      return stored === undefined
        ? { id, origin: 'config' as const, ...rule, sources }
        : { ...stored, origin: 'api' as const, sources };
    });
  }

  /** A change of the replicated map (null: deleted), from a peer or this node. */
  applyReplicated(id: string, value: StoredInhibitRule | null): void {
    if (value === null) {
      this.options.store.inhibitRules.delete(id);
      this.byId.delete(id);
      this.inhibitor.remove(id);
      return;
    }
    this.options.store.inhibitRules.put(value);
    this.byId.set(id, value);
    this.inhibitor.add(id, ruleOf(value), this.history(value.when.class));
  }

  /** Every event appended, in log order, before its plan. */
  observe(event: EventRecord): void {
    this.inhibitor.observe(event);
  }

  muting(event: EventRecord): Mute | undefined {
    return this.inhibitor.muting(event);
  }

  private isConfigRule(id: string): boolean {
    return this.options.configRules.some((_, index) => configRuleId(index) === id);
  }

  private history(className: string): EventRecord[] {
    return this.options.store.events.latestOfClass(className, inhibitReplay);
  }

  private validate(body: unknown): RuleBody {
    const validate = validator('inhibit-rule.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors).map((problem, index) => missingField(validate.errors?.[index]) ?? problem);
      throw new EventdError('EVENTD_ERR_BAD_INHIBIT_RULE', problems.join('; '), { problems, field: problems[0]?.split(':')[0] });
    }
    return body as RuleBody;
  }
}

/** "when.class: is required" rather than "when: must have required property 'class'": the message starts with the field. */
function missingField(error: ErrorObject | undefined): string | undefined {
  if (error?.keyword !== 'required') return undefined;
  const parent = error.instancePath.split('/').filter(Boolean).join('.');
  const key = String((error.params as { missingProperty: string }).missingProperty);
  return `${parent ? `${parent}.` : ''}${key}: is required`;
}

function ruleOf(stored: StoredInhibitRule): InhibitRule {
  return { when: stored.when, mute: stored.mute };
}

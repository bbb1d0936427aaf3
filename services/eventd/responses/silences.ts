import { randomBytes } from 'node:crypto';
import { parseDuration } from '../duration.js';
import { EventdError, isEventdError } from '../errors.js';
import type { EventDraft } from '../log/append.js';
import type { Logger } from '../logger.js';
import { describeErrors, validator } from '../schema.js';
import type { Store } from '../store/index.js';
import type { Silence, SilenceMatchers } from '../types.js';
import { matchingSilence, silenceState, type SilenceState } from './silence-match.js';

export interface SilenceServiceOptions {
  node: string;
  store: Store;
  logger: Logger;
  /** The cluster's replicated map; absent on a single node. */
  cluster?: { put(silence: Silence): void };
}

interface SilenceBody {
  matchers: SilenceMatchers;
  startsAt?: string;
  endsAt?: string;
  duration?: string;
  comment: string;
  createdBy?: string;
}

export type SilenceInfo = Silence & { state: SilenceState };

/**
 * Silences: created, listed and expired (an expired silence is kept, its end
 * moved to now, so the audit still names it). They end on their own: whether
 * one is active is a function of the time, asked when an event is raised.
 */
export class SilenceService {
  private readonly byId = new Map<string, Silence>();

  constructor(private readonly options: SilenceServiceOptions) {}

  restore(): void {
    for (const silence of this.options.store.silences.all()) this.byId.set(silence.id, silence);
  }

  create(body: unknown, who: string, now = Date.now()): Silence {
    const input = this.validate(body);
    const startsAt = input.startsAt === undefined ? now : time(input.startsAt, 'startsAt');
    let endsAt: number;
    if (input.endsAt !== undefined) {
      endsAt = time(input.endsAt, 'endsAt');
    } else if (input.duration !== undefined) {
      try {
        endsAt = startsAt + parseDuration(input.duration, 'duration');
      } catch (error) {
        throw isEventdError(error) ? new EventdError('EVENTD_ERR_BAD_SILENCE', error.message, { field: 'duration' }) : error;
      }
    } else {
      throw new EventdError('EVENTD_ERR_BAD_SILENCE', 'endsAt: a silence needs an end: give endsAt or duration (eventctl silence add --for 2h)', { field: 'endsAt' });
    }
    if (endsAt <= startsAt) throw new EventdError('EVENTD_ERR_BAD_SILENCE', 'endsAt: must be after startsAt', { field: 'endsAt' });
    const silence: Silence = {
      id: randomBytes(6).toString('hex'),
      matchers: input.matchers,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      comment: input.comment,
      createdBy: input.createdBy ?? who,
      createdAt: new Date(now).toISOString(),
      node: this.options.node,
    };
    this.save(silence);
    this.options.logger.info({ silence: silence.id, matchers: silence.matchers, endsAt: silence.endsAt, createdBy: silence.createdBy }, 'silence created');
    return silence;
  }

  /** Ends it now; an already expired silence stays as it was. */
  expire(id: string, now = Date.now()): Silence {
    const silence = this.byId.get(id);
    if (!silence) throw new EventdError('EVENTD_ERR_SILENCE_NOT_FOUND', `no silence with id "${id}"`, { id });
    if (silenceState(silence, now) === 'expired') return silence;
    const expired: Silence = { ...silence, endsAt: new Date(now).toISOString(), ...(Date.parse(silence.startsAt) > now ? { startsAt: new Date(now).toISOString() } : {}) };
    this.save(expired);
    this.options.logger.info({ silence: id }, 'silence expired');
    return expired;
  }

  list(now = Date.now(), includeExpired = false): SilenceInfo[] {
    return [...this.byId.values()]
      .map((silence) => ({ ...silence, state: silenceState(silence, now) }))
      .filter((silence) => includeExpired || silence.state !== 'expired')
      .sort((a, b) => a.endsAt.localeCompare(b.endsAt) || a.id.localeCompare(b.id));
  }

  /** The id of the active silence muting this event, if any. */
  silencing(event: Pick<EventDraft, 'subscription' | 'subscriptionName' | 'class' | 'node' | 'resource'>, now = Date.now()): string | undefined {
    return matchingSilence(this.byId.values(), event, now)?.id;
  }

  applyReplicated(id: string, value: Silence | null): void {
    if (value === null) return; // silences are expired, never deleted
    this.options.store.silences.put(value);
    this.byId.set(id, value);
  }

  private save(silence: Silence): void {
    if (this.options.cluster) {
      this.options.cluster.put(silence);
      return;
    }
    this.options.store.silences.put(silence);
    this.byId.set(silence.id, silence);
  }

  private validate(body: unknown): SilenceBody {
    const validate = validator('silence.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new EventdError('EVENTD_ERR_BAD_SILENCE', problems.join('; '), { problems });
    }
    return body as SilenceBody;
  }
}

function time(text: string, field: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new EventdError('EVENTD_ERR_BAD_SILENCE', `${field}: "${text}" is not an ISO 8601 time`, { field });
  return ms;
}

// Whether a silence mutes an event: pure, so the rule is tested apart from the store.
import type { EventDraft } from '../log/append.js';
import type { Silence } from '../types.js';

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(silence: Silence, now: number): SilenceState {
  if (now < Date.parse(silence.startsAt)) return 'pending';
  return now < Date.parse(silence.endsAt) ? 'active' : 'expired';
}

/** Every matcher given equals the event's field; a silence with no matcher matches nothing (refused at creation). */
export function silenceMatches(silence: Silence, event: Pick<EventDraft, 'subscription' | 'subscriptionName' | 'class' | 'node' | 'resource'>, now: number): boolean {
  if (silenceState(silence, now) !== 'active') return false;
  const { subscription, class: className, node, resource } = silence.matchers;
  if (subscription === undefined && className === undefined && node === undefined && resource === undefined) return false;
  if (subscription !== undefined && subscription !== event.subscription && subscription !== event.subscriptionName) return false;
  if (className !== undefined && className !== event.class) return false;
  if (node !== undefined && node !== event.node) return false;
  if (resource !== undefined && resource !== event.resource) return false;
  return true;
}

/** The first active silence that matches (oldest end first, so an id is stable), or undefined. */
export function matchingSilence(silences: Iterable<Silence>, event: Parameters<typeof silenceMatches>[1], now: number): Silence | undefined {
  for (const silence of silences) if (silenceMatches(silence, event, now)) return silence;
  return undefined;
}

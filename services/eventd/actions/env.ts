import type { AttrValue, EventRecord } from '../types.js';

// Binary unit suffixes (KiB, MiB, ...) stay one word: totalKiB -> TOTAL_KIB.
// Otherwise a word is a run of capitals not followed by a lowercase letter
// (an acronym: URL), or an optional capital and lowercase letters/digits.
const word = /[KMGTPE]i[Bb](?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+/g;

/** `percentUsed` -> `PERCENT_USED`, `totalKiB` -> `TOTAL_KIB`, `httpURLPath` -> `HTTP_URL_PATH`. */
export function upperSnake(name: string): string {
  return (name.match(word) ?? []).map((part) => part.toUpperCase()).join('_');
}

/**
 * Attribute values longer than this are left out of the environment: Linux
 * refuses to exec with one variable past 128 KiB (E2BIG), and the whole event
 * is on stdin anyway.
 */
export const MAX_ENV_VALUE_BYTES = 32 * 1024;

function envValue(value: AttrValue): string {
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
}

/** The EVENTD_* variables a script action sees for `event` (EVENTD_ACTION_ATTEMPT is added per run). */
export function actionEnv(event: EventRecord): Record<string, string> {
  const env: Record<string, string> = {
    EVENTD_EVENT_ID: event.id,
    EVENTD_EVENT_TYPE: event.type,
    EVENTD_SUBSCRIPTION: event.subscriptionName,
    EVENTD_SUBSCRIPTION_ID: event.subscription,
    EVENTD_CLASS: event.class,
    EVENTD_RESOURCE: event.resource,
    EVENTD_NODE: event.node,
    EVENTD_EXPR: event.expr,
    EVENTD_TIME: event.time,
  };
  for (const [name, value] of Object.entries(event.attrs)) {
    const key = upperSnake(name);
    const text = envValue(value);
    if (key !== '' && Buffer.byteLength(text) <= MAX_ENV_VALUE_BYTES) env[`EVENTD_ATTR_${key}`] = text;
  }
  return env;
}

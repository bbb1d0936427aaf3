import { EventdError } from './errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const pattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses "250ms", "10s", "5m", "1h". `field` names what was wrong in the error. */
export function parseDuration(text: string, field: string): number {
  const match = pattern.exec(text.trim());
  if (!match) {
    throw new EventdError(
      'EVENTD_ERR_BAD_DURATION',
      `${field}: "${text}" is not a duration; use a number and a unit, e.g. "500ms", "10s", "5m", "1h"`,
      { field, value: text },
    );
  }
  return Math.round(Number(match[1]) * (units[match[2] as string] as number));
}

export function isDuration(text: string): boolean {
  return pattern.test(text.trim());
}

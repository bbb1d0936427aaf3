import { isDuration, parseDuration } from '../duration.js';
import { EventdError } from '../errors.js';
import type { ForClause } from '../evaluation/threshold.js';

const windowPattern = /^\s*(\d+)\s+of\s+(\d+)\s*$/;
const maxSamples = 10_000;

/**
 * `for`: N consecutive samples (a number, or its digits), "M of N" samples
 * (RSCT's __QUAL_COUNT), or a duration the expression must hold for ("30s").
 */
export function parseFor(value: number | string): ForClause {
  if (typeof value === 'number' || /^\s*\d+\s*$/.test(value)) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > maxSamples) throw badFor(value, `a sample count must be an integer from 1 to ${maxSamples}`);
    return { kind: 'count', n };
  }
  const window = windowPattern.exec(value);
  if (window) {
    const m = Number(window[1]);
    const n = Number(window[2]);
    if (m < 1 || n < m || n > maxSamples) throw badFor(value, `"M of N" needs 1 <= M <= N <= ${maxSamples}`);
    return { kind: 'window', m, n };
  }
  if (isDuration(value)) return { kind: 'duration', ms: parseDuration(value, 'for') };
  throw badFor(value, 'use a sample count (3), "M of N" samples ("2 of 3"), or a duration ("30s")');
}

function badFor(value: number | string, why: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_FOR', `for: ${JSON.stringify(value)} is not valid: ${why}`, { field: 'for', value });
}

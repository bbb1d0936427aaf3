// Parsers for option values; a bad value is a usage error (exit 2) naming the option.
import { InvalidArgumentError } from 'commander';
import type { CrossingType, Scope } from '../types.js';

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return Number(value);
}

/** "3" is 3 consecutive samples (a number on the wire); "2 of 3" and "30s" go as strings for the daemon to judge. */
export function forClause(value: string): number | string {
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('expected N, "M of N" or a duration such as 30s');
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** `local`, `cluster`, or node names separated by commas (always a list, even of one). */
export function scope(value: string): Scope {
  const text = value.trim();
  if (text === 'local' || text === 'cluster') return text;
  const nodes = text.split(',').map((node) => node.trim());
  if (nodes.some((node) => node === '')) throw new InvalidArgumentError('expected local, cluster, or node names separated by commas');
  return nodes;
}

const eventTypes: readonly CrossingType[] = ['event', 'rearm'];

/** `event`, `rearm` or `event,rearm`. */
export function onTypes(value: string): CrossingType[] {
  const types = value.split(',').map((type) => type.trim());
  const bad = types.filter((type) => !(eventTypes as readonly string[]).includes(type));
  if (types.length === 0 || bad.length > 0) throw new InvalidArgumentError('expected event, rearm or event,rearm');
  return [...new Set(types as CrossingType[])];
}

/** For repeatable options: `--run a --run b` -> [a, b]. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

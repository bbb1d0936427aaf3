// The runtime side of the constraints (placement.ts keeps colocated groups on
// one node): `after` orders starts and planned stops as Pacemaker's ordering
// constraints do (start A then B; stop B then A), and a colocated group
// claims only once its partner is owned here, so the two never start apart.
// Pure reads of the folds, the same on every node.
import type { Ledger } from './ledger.js';
import type { GroupSettings } from './settings.js';

export interface ConstraintFolds {
  groups: readonly GroupSettings[];
  ledger: Ledger;
}

/**
 * Whether `other` runs and stays: its owner reported it running, placement
 * keeps it there, and what it runs after runs and stays too (so a chain
 * stops from its end). A group `after` it runs only while this holds.
 * Recursion ends: the config refuses `after` in a circle.
 */
export function settledRunning(folds: ConstraintFolds, other: string, placement: ReadonlyMap<string, string | null>): boolean {
  const owner = folds.ledger.owner(other);
  if (owner === null || folds.ledger.lastState(other, owner) !== 'running' || placement.get(other) !== owner) return false;
  const group = folds.groups.find((g) => g.name === other);
  return group === undefined || group.after.every((before) => settledRunning(folds, before, placement));
}

/** The groups of `after` that do not run and stay: `group` neither starts nor keeps running until they do. */
export function afterPending(folds: ConstraintFolds, group: GroupSettings, placement: ReadonlyMap<string, string | null>): string[] {
  return group.after.filter((other) => !settledRunning(folds, other, placement));
}

/** Why `group` may not start on `me` now; undefined when its constraints allow it. */
export function waitingFor(folds: ConstraintFolds, group: GroupSettings, me: string, placement: ReadonlyMap<string, string | null>): string | undefined {
  const pending = afterPending(folds, group, placement);
  if (pending.length > 0) return `waiting for ${pending.join(', ')} to run (after)`;
  if (group.colocateWith !== undefined && folds.ledger.owner(group.colocateWith) !== me) return `waiting for ${group.colocateWith} to be here (colocateWith)`;
  return undefined;
}

/** The groups `after` this one that still run (or start, or stop) on a node of the view: a planned stop of this one waits for them. */
export function activeDependents(folds: ConstraintFolds, group: string, view: readonly string[]): string[] {
  return folds.groups
    .filter((other) => other.after.includes(group))
    .filter((other) => {
      const owner = folds.ledger.owner(other.name);
      const state = owner === null ? undefined : folds.ledger.lastState(other.name, owner);
      return owner !== null && view.includes(owner) && (state === 'starting' || state === 'running' || state === 'stopping');
    })
    .map((other) => other.name);
}

// What GET /v1/groups and `eventctl groups` show of each group: owner,
// placement (and why a group is placed nowhere or waits), this node's state,
// operator constraints with their expiry, fail counts and each node's last
// report.
import type { Constraint, Controls } from './controls.js';
import type { Ledger } from './ledger.js';
import { placementInputOf } from './operator.js';
import { afterPending } from './ordering.js';
import { homelessReason, place } from './placement.js';
import type { FailoverSettings } from './settings.js';

export interface GroupView {
  name: string;
  owner: string | null;
  target: string | null;
  /** Why the group is placed nowhere, or waits for the groups it runs after; absent when neither. */
  why?: string;
  local: string;
  /** false while unmanaged (or the cluster is in maintenance): no script runs, state is still reported. */
  managed: boolean;
  /** Live operator moves and bans, with their expiry. */
  constraints: Constraint[];
  /** Fail counts per node (within failureTimeout). */
  failures: Record<string, number>;
  reports: Array<ReturnType<Ledger['reports']>[number] & { inView: boolean }>;
}

export interface StatusFolds {
  settings: FailoverSettings;
  ledger: Ledger;
  controls: Controls;
  localState(group: string): string;
}

export function groupViews(folds: StatusFolds, view: readonly string[], now: number): GroupView[] {
  const input = placementInputOf(folds, view, now);
  const placement = place(input);
  return folds.settings.groups.map((group) => {
    const pending = afterPending({ groups: folds.settings.groups, ledger: folds.ledger }, group, placement);
    const why = homelessReason(input, placement, group.name) ?? (pending.length > 0 ? `waiting for ${pending.join(', ')} to run (after)` : undefined);
    return {
      name: group.name,
      owner: folds.ledger.owner(group.name),
      target: placement.get(group.name) ?? null,
      ...(why === undefined ? {} : { why }),
      local: folds.localState(group.name),
      managed: folds.controls.managed(group.name),
      constraints: folds.controls.constraints(group.name, now),
      failures: Object.fromEntries(view.map((node) => [node, folds.ledger.failures(group.name, node, now, group.failureTimeoutMs)]).filter(([, n]) => n !== 0)),
      reports: folds.ledger.reports(group.name).map((report) => ({ ...report, inView: view.includes(report.node) })),
    };
  });
}

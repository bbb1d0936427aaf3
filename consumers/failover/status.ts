// What GET /v1/groups and `eventctl groups` show of each group: owner,
// placement (and why a group is placed nowhere or waits), this node's state,
// operator constraints with their expiry, fail counts and each node's last
// report.
import type { GroupStatus } from '../../services/eventd/sdk/index.js';
import type { Controls } from './controls.js';
import type { Ledger } from './ledger.js';
import { placementInputOf } from './operator.js';
import { afterPending } from './ordering.js';
import { homelessReason, place } from './placement.js';
import type { FailoverSettings } from './settings.js';

/** The body of GET /v1/groups is the SDK's: the CLI and the console read the same type. */
export type GroupView = GroupStatus;

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

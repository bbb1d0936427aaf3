// What placement is fed from the folds (ledger, controls), and the checks an
// operator's control passes before it is raised: a move that cannot be
// satisfied says why and raises nothing (pcs issue 697: a failed move left
// a permanent constraint behind).
import { EventdError } from '../../services/eventd/sdk/index.js';
import type { ControlAttrs, Controls } from './controls.js';
import type { Ledger } from './ledger.js';
import { bannedKey, DEFAULT_CAPACITY, place } from './placement.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

export interface Folds {
  settings: FailoverSettings;
  ledger: Ledger;
  controls: Controls;
}

/** The placement every node computes from the same folds, view and clock (expiries and failureTimeout at `now`). */
export function placementOf(folds: Folds, view: readonly string[], now: number, moves?: ReadonlyMap<string, string>): Map<string, string | null> {
  const { settings, ledger, controls } = folds;
  const current = new Map<string, string>();
  const banned = new Set<string>();
  const moved = new Map(moves ?? []);
  for (const group of settings.groups) {
    const owner = ledger.owner(group.name);
    if (owner !== null) current.set(group.name, owner);
    const move = controls.moveOf(group.name, now);
    if (move !== undefined && !moved.has(group.name)) moved.set(group.name, move);
    for (const node of view) {
      if (ledger.failures(group.name, node, now, group.failureTimeoutMs) >= settings.maxStartFailures || controls.banned(group.name, node, now)) {
        banned.add(bannedKey(group.name, node));
      }
    }
  }
  const capacities = new Map<string, number>();
  for (const node of view) capacities.set(node, ledger.capacity(node) ?? DEFAULT_CAPACITY);
  return place({
    view,
    groups: settings.groups.map((group) => ({ name: group.name, weight: group.weight, prefer: group.prefer })),
    capacities,
    current,
    banned,
    failback: settings.failback,
    standby: new Set(controls.standby()),
    moves: moved,
  });
}

export function groupNamed(settings: FailoverSettings, name: string): GroupSettings {
  const group = settings.groups.find((g) => g.name === name);
  if (!group) throw new EventdError('EVENTD_ERR_GROUP_NOT_FOUND', `no failover group "${name}"`, { group: name, groups: settings.groups.map((g) => g.name) });
  return group;
}

/** Throws EVENTD_ERR_UNSATISFIABLE (or NOT_FOUND) naming why, before anything is raised. */
export function checkControl(folds: Folds, control: ControlAttrs, view: readonly string[], now: number): void {
  const { settings, ledger, controls } = folds;
  if (control.group !== undefined) groupNamed(settings, control.group);
  const node = control.node;
  if (node === undefined) return;
  if (control.action === 'ban' || control.action === 'standby' || control.action === 'unstandby' || control.action === 'cleanup') {
    if (!view.includes(node) && ledger.capacity(node) === undefined) {
      throw new EventdError('EVENTD_ERR_UNSATISFIABLE', `${node} is not a node of this cluster (view: ${view.join(', ')})`, { node, view });
    }
    return;
  }
  if (control.action !== 'move') return;
  const group = control.group!;
  const why = (reason: string): never => {
    throw new EventdError('EVENTD_ERR_UNSATISFIABLE', `cannot move ${group} to ${node}: ${reason}; nothing was changed`, { group, node, reason });
  };
  if (!view.includes(node)) why(`${node} is not in the view (${view.join(', ')})`);
  if (controls.isStandby(node)) why(`${node} is in standby`);
  if (controls.banned(group, node, now)) why(`${group} is banned from ${node} (eventctl groups clear ${group})`);
  const failures = ledger.failures(group, node, now, groupNamed(settings, group).failureTimeoutMs);
  if (failures >= settings.maxStartFailures) why(`${group} failed ${failures} times there (eventctl groups cleanup ${group} ${node})`);
  if (!controls.managed(group)) why(controls.maintenance() ? 'the cluster is in maintenance' : `${group} is unmanaged`);
  const placed = placementOf(folds, view, now, new Map([[group, node]])).get(group);
  if (placed !== node) why(`not enough capacity on ${node} for weight ${groupNamed(settings, group).weight}`);
}

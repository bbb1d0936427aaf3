// What placement is fed from the folds (ledger, controls), and the checks an
// operator's control passes before it is raised: a move that cannot be
// satisfied says why and raises nothing (pcs issue 697: a failed move left
// a permanent constraint behind).
import { EventdError } from '../../services/eventd/sdk/index.js';
import type { ControlAttrs, Controls } from './controls.js';
import type { Ledger } from './ledger.js';
import { bannedKey, DEFAULT_CAPACITY, place, type PlacementInput } from './placement.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

export interface Folds {
  settings: FailoverSettings;
  ledger: Ledger;
  controls: Controls;
}

/** The placement every node computes from the same folds, view and clock (expiries and failureTimeout at `now`). */
export function placementOf(folds: Folds, view: readonly string[], now: number, moves?: ReadonlyMap<string, string>): Map<string, string | null> {
  return place(placementInputOf(folds, view, now, moves));
}

/** What placement is fed: the owners as current, fail counts and bans as banned pairs, live moves and standby. */
export function placementInputOf(folds: Folds, agreedView: readonly string[], now: number, moves?: ReadonlyMap<string, string>): PlacementInput {
  const { settings, ledger, controls } = folds;
  // A witness votes and runs nothing: it is never a place for a group.
  const view = agreedView.filter((node) => !ledger.witness(node));
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
  return {
    view,
    groups: settings.groups.map((group) => ({ name: group.name, weight: group.weight, prefer: group.prefer, ...(group.colocateWith === undefined ? {} : { colocateWith: group.colocateWith }) })),
    capacities,
    current,
    banned,
    failback: settings.failback,
    standby: new Set(controls.standby()),
    moves: moved,
  };
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
  if (ledger.witness(node)) why(`${node} is a witness: it runs no group`);
  if (controls.isStandby(node)) why(`${node} is in standby`);
  if (controls.banned(group, node, now)) why(`${group} is banned from ${node} (eventctl groups clear ${group})`);
  const failures = ledger.failures(group, node, now, groupNamed(settings, group).failureTimeoutMs);
  if (failures >= settings.maxStartFailures) why(`${group} failed ${failures} times there (eventctl groups cleanup ${group} ${node})`);
  const partner = groupNamed(settings, group).colocateWith;
  if (partner !== undefined) why(`it is colocated with ${partner} and goes where ${partner} goes (move ${partner} instead)`);
  if (!controls.managed(group)) why(controls.maintenance() ? 'the cluster is in maintenance' : `${group} is unmanaged`);
  // A set moves as one: a member that may not run there makes the move unsatisfiable too.
  const members = settings.groups.filter((g) => colocatedWith(settings, g.name, group));
  for (const member of members) {
    if (controls.banned(member.name, node, now) || ledger.failures(member.name, node, now, member.failureTimeoutMs) >= settings.maxStartFailures) {
      why(`${member.name} (colocated with ${group}) may not run on ${node} (banned or failed there; eventctl groups clear/cleanup ${member.name})`);
    }
  }
  const placedSet = placementOf(folds, view, now, new Map([[group, node]]));
  const weight = [groupNamed(settings, group), ...members].reduce((sum, g) => sum + g.weight, 0);
  if (placedSet.get(group) !== node) why(`not enough capacity on ${node} for weight ${weight}${members.length > 0 ? ` (${group} with ${members.map((g) => g.name).join(', ')})` : ''}`);
  const left = members.filter((g) => placedSet.get(g.name) !== node);
  if (left.length > 0) why(`${left.map((g) => g.name).join(', ')} (colocated with ${group}) cannot run on ${node}`);
}

/** Whether `name` is colocated with `root`, directly or through other groups. */
function colocatedWith(settings: FailoverSettings, name: string, root: string): boolean {
  const seen = new Set<string>();
  let at = groupNamed(settings, name).colocateWith;
  while (at !== undefined && !seen.has(at)) {
    if (at === root) return true;
    seen.add(at);
    const partner: string = at;
    at = settings.groups.find((g) => g.name === partner)?.colocateWith;
  }
  return false;
}

// Placement of failover groups: a pure function of (agreed view, groups,
// capacities, current placement, banned pairs, failback), so every node of
// the view computes the same answer with no leader. Rules, in this order:
//  - Eligible: a node in the view, not in standby, where the group is not
//    banned, whose capacity minus the weights it already runs is >= the
//    group's weight.
//    A capacity is never exceeded; a node missing from `capacities` has 100.
//  - Groups are considered heaviest first, then by name (never input order).
//  0. Moves: a group an operator moved goes to that node when it is eligible.
//  1. Stickiness: a group whose current node is in the view, not banned and
//     still fits stays there. A node rejoining the view takes nothing back.
//  2. Every other group goes to the best eligible node: its prefer list first
//     (in list order), then most free capacity, ties by node name; null when
//     no node is eligible (no room anywhere, or banned everywhere).
//  3. Failback (only when `failback`): a group moves to a node ranked higher
//     in its prefer list that is eligible once the homeless groups are placed;
//     repeated until nothing moves (each move strictly improves a rank), then
//     step 2 runs again for groups still homeless, using the room freed.
// Colocation (`colocateWith`): a group and the groups colocated with it form
// a set, placed by its root (the member colocated with nothing): its move,
// its stickiness, its prefer list. A set moves as one, and a homeless set
// goes to the best node that takes all of it (every member allowed there,
// room for all); with none, the root is placed alone. A member goes where its
// root went when it may run and fits there, else nowhere (homelessReason
// says why); a member's ban never moves a root that stays (move or ban the
// root to move the set). Colocation never puts a group where it could not
// run alone, and never two members of a set on different nodes.
// The result is a fixed point: placing again with `current` = the result and
// the same view returns the same result.
import { EventdError } from '../../services/eventd/sdk/index.js';

/** A node's capacity when `capacities` does not name it (Pacemaker-like utilization). */
export const DEFAULT_CAPACITY = 100;

export interface PlacementGroup {
  name: string;
  /** What the group uses of a node's capacity; >= 0. */
  weight: number;
  /** Nodes to try first, best first (of a colocated group: unused, it goes where its partner goes). */
  prefer?: readonly string[];
  /** Runs only on the node its partner group runs on (a VIP with its service). */
  colocateWith?: string;
}

export interface PlacementInput {
  /** The agreed live nodes. */
  view: readonly string[];
  groups: readonly PlacementGroup[];
  /** node -> capacity; a node missing here has DEFAULT_CAPACITY. */
  capacities: ReadonlyMap<string, number>;
  /** group -> node holding it or last assigned; may name a node not in the view. */
  current: ReadonlyMap<string, string>;
  /** `${group}\u0000${node}`: pairs where the group failed to start too often. */
  banned: ReadonlySet<string>;
  /** Move a group back to a node ranked higher in its prefer list when that node has room. */
  failback: boolean;
  /** Nodes in standby: nothing is placed there. */
  standby?: ReadonlySet<string>;
  /** group -> the node an operator moved it to. */
  moves?: ReadonlyMap<string, string>;
}

/** The key of a (group, node) pair in PlacementInput.banned. */
export function bannedKey(group: string, node: string): string {
  return `${group}\u0000${node}`;
}

/** group name -> node, or null when no node is eligible. */
export function place(input: PlacementInput): Map<string, string | null> {
  const view = [...new Set(input.view)].sort(byName);
  const inView = new Set(view);
  const groups = checkedGroups(input.groups);
  const sets = colocationSets(groups);
  const capacity = (node: string): number => input.capacities.get(node) ?? DEFAULT_CAPACITY;
  const at = new Map<string, string | null>();
  // Loads are summed in group order, never incrementally: the same assignment
  // gives the same float on every node, and adding a group never lowers it.
  const load = (node: string, plus: ReadonlySet<PlacementGroup> = new Set()): number =>
    groups.reduce((sum, g) => (plus.has(g) || at.get(g.name) === node ? sum + g.weight : sum), 0);
  const free = (node: string): number => capacity(node) - load(node);
  const allowed = (group: PlacementGroup, node: string): boolean =>
    inView.has(node) && !input.standby?.has(node) && !input.banned.has(bannedKey(group.name, node));
  const eligible = (group: PlacementGroup, node: string): boolean => allowed(group, node) && load(node, new Set([group])) <= capacity(node);
  /** The whole set fits there: every member allowed, room for all of them. */
  const setEligible = (set: ColocationSet, node: string): boolean =>
    set.members.every((member) => allowed(member, node)) && load(node, new Set(set.members)) <= capacity(node);
  const rank = (group: PlacementGroup, node: string): number => {
    const index = (group.prefer ?? []).indexOf(node);
    return index < 0 ? Infinity : index;
  };
  const assign = (set: ColocationSet, node: string | null): void => {
    for (const member of set.members) at.set(member.name, node);
  };
  const best = (set: ColocationSet, fits: (node: string) => boolean): string | null => {
    let chosen: string | null = null;
    for (const node of view) {
      if (!fits(node)) continue;
      if (chosen === null || better(rank(set.root, node), free(node), node, rank(set.root, chosen), free(chosen), chosen)) chosen = node;
    }
    return chosen;
  };
  /** The root alone at `node` (or nowhere); members already current there stay if they fit, the others wait for the last step. */
  const placeRoot = (set: ColocationSet, node: string | null): void => {
    at.set(set.root.name, node);
    for (const member of set.members.slice(1)) {
      const partner = at.get(member.colocateWith!);
      if (node === null || partner === null) at.set(member.name, null);
      else if (partner !== node) at.delete(member.name);
      else if (input.current.get(member.name) === node && eligible(member, node)) at.set(member.name, node);
      else at.delete(member.name);
    }
  };
  const placeHomeless = (): void => {
    for (const set of sets) {
      if (isNode(at.get(set.root.name))) continue;
      const whole = best(set, (node) => setEligible(set, node));
      if (whole !== null) {
        assign(set, whole);
        continue;
      }
      // No node takes the whole set: its root alone (sticky first).
      const holder = input.current.get(set.root.name);
      placeRoot(set, holder !== undefined && eligible(set.root, holder) ? holder : best(set, (n) => eligible(set.root, n)));
    }
  };

  // 0. Moves, then 1. stickiness, heaviest set first. A set moves as one (its root's move) and stays on its
  // root's node: whole when it fits and every member was there, else the root and the members already there
  // that still fit (the others wait for step 4). A member that may not run there does not move its root.
  for (const set of sets) {
    const moved = input.moves?.get(set.root.name);
    if (moved !== undefined && setEligible(set, moved)) {
      assign(set, moved);
      continue;
    }
    const holder = input.current.get(set.root.name);
    if (holder === undefined || !eligible(set.root, holder)) continue;
    if (setEligible(set, holder) && set.members.every((member) => input.current.get(member.name) === holder)) assign(set, holder);
    else placeRoot(set, holder);
  }
  // 2. Homeless sets.
  placeHomeless();
  // 3. Failback: only to a strictly better prefer rank of the root, so the loop ends.
  if (input.failback) {
    for (let moved = true; moved; ) {
      moved = false;
      for (const set of sets) {
        const holder = at.get(set.root.name);
        if (!isNode(holder) || input.moves?.get(set.root.name) === holder) continue;
        const target = (set.root.prefer ?? []).find((node, index) => index < rank(set.root, holder) && setEligible(set, node));
        if (target === undefined) continue;
        assign(set, target);
        moved = true;
      }
    }
    placeHomeless();
  }
  // 4. Members left waiting go where their partner went, if they fit there, once everything else is placed.
  for (const set of sets) {
    for (const member of set.members.slice(1)) {
      if (at.has(member.name)) continue;
      const partner = at.get(member.colocateWith!) ?? null;
      at.set(member.name, partner !== null && eligible(member, partner) ? partner : null);
    }
  }
  return at;
}

/** A group and every group colocated with it (directly or through others): they run on one node. */
interface ColocationSet {
  /** The group that colocates with nothing; its prefer list and move place the set. */
  root: PlacementGroup;
  /** The root first, then the others, each after its partner. */
  members: PlacementGroup[];
  weight: number;
}

/** The colocation sets, heaviest first, then by root name (a set of one is the group alone, as before constraints). */
function colocationSets(groups: readonly PlacementGroup[]): ColocationSet[] {
  const byNameMap = new Map(groups.map((group) => [group.name, group]));
  const rootOf = (group: PlacementGroup): PlacementGroup => {
    const seen = new Set<string>();
    let at = group;
    while (at.colocateWith !== undefined) {
      if (seen.has(at.name)) {
        throw new EventdError('EVENTD_ERR_BAD_CONFIG', `failover group "${group.name}": colocateWith goes round in a circle (${[...seen].join(' -> ')})`, { group: group.name });
      }
      seen.add(at.name);
      const partner = byNameMap.get(at.colocateWith);
      if (!partner) throw new EventdError('EVENTD_ERR_BAD_CONFIG', `failover group "${at.name}": colocateWith names no group "${at.colocateWith}"`, { group: at.name });
      at = partner;
    }
    return at;
  };
  const sets = new Map<string, ColocationSet>();
  for (const group of groups) {
    const root = rootOf(group);
    let set = sets.get(root.name);
    if (!set) {
      set = { root, members: [], weight: 0 };
      sets.set(root.name, set);
    }
    set.weight += group.weight;
  }
  // Members in partner order: breadth first from the root, siblings in group order (heaviest, then name).
  for (const set of sets.values()) {
    set.members = [set.root];
    for (let i = 0; i < set.members.length; i++) {
      const partner = set.members[i]!.name;
      for (const group of groups) if (group.colocateWith === partner) set.members.push(group);
    }
  }
  return [...sets.values()].sort((a, b) => b.weight - a.weight || byName(a.root.name, b.root.name));
}

/** Why `group` is placed nowhere in `answer` (a line for eventctl groups); undefined when it is placed. */
export function homelessReason(input: PlacementInput, answer: ReadonlyMap<string, string | null>, group: string): string | undefined {
  if (isNode(answer.get(group))) return undefined;
  const groups = new Map(input.groups.map((g) => [g.name, g]));
  const self = groups.get(group);
  if (!self) return undefined;
  const used = (node: string): number => input.groups.reduce((sum, g) => (answer.get(g.name) === node ? sum + g.weight : sum), 0);
  const why = (node: string): string => {
    if (!input.view.includes(node)) return `${node} is not in the view`;
    if (input.standby?.has(node)) return `${node} is in standby`;
    if (input.banned.has(bannedKey(group, node))) return `${group} is banned from ${node} (or failed there too often)`;
    const free = (input.capacities.get(node) ?? DEFAULT_CAPACITY) - used(node);
    return `${node} has ${free} free for weight ${self.weight}`;
  };
  if (self.colocateWith !== undefined) {
    const partnerAt = answer.get(self.colocateWith) ?? null;
    if (partnerAt === null) return `colocated with ${self.colocateWith}, which is placed nowhere`;
    return `colocated with ${self.colocateWith} on ${partnerAt}, but ${why(partnerAt)}`;
  }
  if (input.view.length === 0) return 'no node in the view';
  return `no eligible node: ${[...new Set(input.view)].sort(byName).map(why).join('; ')}`;
}

function isNode(node: string | null | undefined): node is string {
  return node !== null && node !== undefined;
}

/** Prefer rank first (lower is better), then more free capacity, then node name. */
function better(rankA: number, freeA: number, nodeA: string, rankB: number, freeB: number, nodeB: string): boolean {
  if (rankA !== rankB) return rankA < rankB;
  if (freeA !== freeB) return freeA > freeB;
  return byName(nodeA, nodeB) < 0;
}

/** Code-unit order, the same on every node whatever its locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Heaviest first, then by name; rejects what would make the answer depend on input order. */
function checkedGroups(groups: readonly PlacementGroup[]): PlacementGroup[] {
  const names = new Set<string>();
  for (const group of groups) {
    if (names.has(group.name)) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `failover group "${group.name}" is defined twice`);
    }
    if (!Number.isFinite(group.weight) || group.weight < 0) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `failover group "${group.name}" has a bad weight`, {
        weight: group.weight,
      });
    }
    names.add(group.name);
  }
  return [...groups].sort((a, b) => b.weight - a.weight || byName(a.name, b.name));
}

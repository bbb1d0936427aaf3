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
// The result is a fixed point: placing again with `current` = the result and
// the same view returns the same result.
import { EventdError } from '../../services/eventd/sdk/index.js';

/** A node's capacity when `capacities` does not name it (Pacemaker-like utilization). */
export const DEFAULT_CAPACITY = 100;

export interface PlacementGroup {
  name: string;
  /** What the group uses of a node's capacity; >= 0. */
  weight: number;
  /** Nodes to try first, best first. */
  prefer?: readonly string[];
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
  const capacity = (node: string): number => input.capacities.get(node) ?? DEFAULT_CAPACITY;
  const at = new Map<string, string | null>();
  // Loads are summed in group order, never incrementally: the same assignment
  // gives the same float on every node, and adding a group never lowers it.
  const load = (node: string, plus?: PlacementGroup): number =>
    groups.reduce((sum, g) => (g === plus || at.get(g.name) === node ? sum + g.weight : sum), 0);
  const free = (node: string): number => capacity(node) - load(node);
  const eligible = (group: PlacementGroup, node: string): boolean =>
    inView.has(node) && !input.standby?.has(node) && !input.banned.has(bannedKey(group.name, node)) && load(node, group) <= capacity(node);
  const rank = (group: PlacementGroup, node: string): number => {
    const index = (group.prefer ?? []).indexOf(node);
    return index < 0 ? Infinity : index;
  };
  const placeHomeless = (): void => {
    for (const group of groups) {
      if (isNode(at.get(group.name))) continue;
      let best: string | null = null;
      for (const node of view) {
        if (!eligible(group, node)) continue;
        if (best === null || better(rank(group, node), free(node), node, rank(group, best), free(best), best)) best = node;
      }
      at.set(group.name, best);
    }
  };

  // 0. Moves, then 1. stickiness, heaviest group first.
  for (const group of groups) {
    const moved = input.moves?.get(group.name);
    const holder = input.current.get(group.name);
    at.set(group.name, moved !== undefined && eligible(group, moved) ? moved : holder !== undefined && eligible(group, holder) ? holder : null);
  }
  // 2. Homeless groups.
  placeHomeless();
  // 3. Failback: only to a strictly better prefer rank, so the loop ends.
  if (input.failback) {
    for (let moved = true; moved; ) {
      moved = false;
      for (const group of groups) {
        const holder = at.get(group.name);
        if (!isNode(holder) || input.moves?.get(group.name) === holder) continue;
        const target = (group.prefer ?? []).find(
          (node, index) => index < rank(group, holder) && eligible(group, node),
        );
        if (target === undefined) continue;
        at.set(group.name, target);
        moved = true;
      }
    }
    placeHomeless();
  }
  return at;
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

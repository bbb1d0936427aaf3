import type { ActionPlacement } from '../types.js';

/**
 * Whether this node runs an action (DESIGN.md, "Responses"): "owner" on the
 * node the subscription was created on, "origin" on the node the resource
 * lives on, "all" on every node that logs the event.
 */
export function runsHere(where: ActionPlacement | undefined, here: string, owner: string | undefined, resourceNode: string): boolean {
  switch (where ?? 'owner') {
    case 'owner': return owner === here;
    case 'origin': return resourceNode === here;
    case 'all': return true;
  }
}

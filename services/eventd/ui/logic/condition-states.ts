import type { ConsoleEvent, ThresholdStateView } from './types.js';

export interface ResourceState {
  node: string;
  resource: string;
  state: 'armed' | 'fired';
  /** ISO time of the sample that caused the last change, when the page saw it. */
  since?: string;
  lastEvent?: string;
}

/**
 * Per subscription x node x resource: armed or fired. Seeded from
 * GET /v1/subscriptions/:id, then moved by each event (`event` fires, `rearm`
 * arms) as it streams in, so the panel needs no polling.
 */
export class ConditionStates {
  private readonly bySubscription = new Map<string, Map<string, ResourceState & { tick: number }>>();
  /** Counts applied events, so a seed fetched before an event cannot undo it. */
  private tick = 0;

  /** Take before fetching the states to seed with; pass to seed(). */
  mark(): number {
    return this.tick;
  }

  /**
   * Replaces a subscription's states with the daemon's, except where an
   * event applied after `asOf` (the mark taken before the fetch) is newer
   * than what the fetch could know.
   */
  seed(subscription: string, states: readonly ThresholdStateView[], lastEvents: ReadonlyMap<string, ConsoleEvent> = new Map(), asOf = this.tick): void {
    const previous = this.bySubscription.get(subscription);
    const map = new Map<string, ResourceState & { tick: number }>();
    for (const state of states) {
      const last = state.lastEvent === undefined ? undefined : lastEvents.get(state.lastEvent);
      map.set(key(state.node, state.resource), {
        node: state.node,
        resource: state.resource,
        state: state.state,
        ...(state.lastEvent === undefined ? {} : { lastEvent: state.lastEvent }),
        ...(last === undefined ? {} : { since: last.time }),
        tick: 0,
      });
    }
    for (const [id, entry] of previous ?? []) if (entry.tick > asOf) map.set(id, entry);
    this.bySubscription.set(subscription, map);
  }

  apply(event: ConsoleEvent): void {
    let map = this.bySubscription.get(event.subscription);
    if (!map) {
      map = new Map();
      this.bySubscription.set(event.subscription, map);
    }
    map.set(key(event.node, event.resource), {
      node: event.node,
      resource: event.resource,
      state: event.type === 'event' ? 'fired' : 'armed',
      since: event.time,
      lastEvent: event.id,
      tick: ++this.tick,
    });
  }

  forget(subscription: string): void {
    this.bySubscription.delete(subscription);
  }

  /** Sorted by node, then resource. */
  states(subscription: string): ResourceState[] {
    return [...(this.bySubscription.get(subscription)?.values() ?? [])].map(({ tick: _tick, ...state }) => state).sort(
      (a, b) => a.node.localeCompare(b.node) || a.resource.localeCompare(b.resource),
    );
  }

  firedCount(subscription: string): number {
    return this.states(subscription).filter((state) => state.state === 'fired').length;
  }
}

function key(node: string, resource: string): string {
  return JSON.stringify([node, resource]);
}

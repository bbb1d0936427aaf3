import { ConditionStates } from '../logic/condition-states.js';
import { EventList } from '../logic/event-list.js';
import type { ClassView, ConsoleEvent, SubscriptionView } from '../logic/types.js';
import { get } from './api.js';

/** What several panels read: the events seen, the subscriptions and their states, the classes. */
export class ConsoleState {
  readonly events = new EventList(2000);
  readonly conditions = new ConditionStates();
  subscriptions: SubscriptionView[] = [];
  classes: ClassView[] = [];
  /** Set by the Silences panel: fills its form from an event (the Events panel's "Silence like this"). */
  silenceLike: ((event: ConsoleEvent) => void) | undefined;

  async loadClasses(): Promise<void> {
    this.classes = (await get<{ classes: ClassView[] }>('/classes')).classes;
  }

  /** The subscriptions and, for each, its per-resource states. */
  async loadSubscriptions(): Promise<void> {
    const asOf = this.conditions.mark();
    const { subscriptions } = await get<{ subscriptions: SubscriptionView[] }>('/subscriptions');
    const details = await Promise.all(
      subscriptions.map((subscription) =>
        get<SubscriptionView & { states: { node: string; resource: string; state: 'armed' | 'fired'; lastEvent?: string }[] }>(
          `/subscriptions/${encodeURIComponent(subscription.id)}`,
        ).catch(() => undefined),
      ),
    );
    const byId = new Map(this.events.list().map((event) => [event.id, event]));
    for (const detail of details) if (detail) this.conditions.seed(detail.id, detail.states, byId, asOf);
    this.subscriptions = subscriptions;
  }

  /** False for an event already held (a resumed stream's overlap). */
  accept(event: ConsoleEvent): boolean {
    if (!this.events.add(event)) return false;
    this.conditions.apply(event);
    return true;
  }

  subscriptionName(id: string): string {
    return this.subscriptions.find((subscription) => subscription.id === id)?.name ?? id;
  }
}

// A group's `monitor`: a local subscription whose events mean "unhealthy
// here". Made once the daemon can (subscriptions are restored after the
// consumers start); its events stop the group and count as a failed start.
import type { EventRecord } from '../../services/eventd/sdk/index.js';
import type { FailoverHost } from './host.js';
import type { GroupSettings } from './settings.js';

export class Monitors {
  /** Monitor subscription id -> its group. */
  private readonly bySubscription = new Map<string, GroupSettings>();
  private warnedAt = -Infinity;

  constructor(private readonly host: FailoverHost, private readonly groups: readonly GroupSettings[]) {}

  /** The group whose monitor fired with this event on this node, if any. */
  unhealthy(event: EventRecord): GroupSettings | undefined {
    if (event.type !== 'event' || event.node !== this.host.node) return undefined;
    return this.bySubscription.get(event.subscription);
  }

  ensure(): void {
    for (const group of this.groups) {
      if (!group.monitor || [...this.bySubscription.values()].includes(group)) continue;
      try {
        this.bySubscription.set(this.host.monitor(group), group);
      } catch (error) {
        if (this.host.mono() - this.warnedAt > 60_000) {
          this.warnedAt = this.host.mono();
          this.host.warn(`failover group ${group.name}: monitor not set up yet: ${String(error)}`, { group: group.name });
        }
      }
    }
  }
}

// Gratuitous ARP after the start: the holder of a group with `ip` announces
// its address again whenever the agreed view changes and every
// garpRefreshMs, so a neighbour that kept a stale entry through a split
// brain (or missed the takeover's announcement) learns the holder's MAC
// again (keepalived issue 166: after a partition healed the VIP stayed
// unreachable because no new GARP went out).
import type { FailoverHost } from './host.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

interface Announced {
  /** The view (joined) at the last announcement. */
  view: string;
  /** When (mono) the last announcement began. */
  at: number;
  running: boolean;
}

export class Announcer {
  private readonly announced = new Map<string, Announced>();

  constructor(private readonly host: FailoverHost, private readonly settings: FailoverSettings) {}

  /** Called every pass with this node's state of each group. */
  pass(view: readonly string[], mono: number, state: (group: string) => string): void {
    const announce = this.host.announce;
    if (!announce) return;
    const key = view.join(',');
    for (const group of this.settings.groups) {
      if (!group.ip) continue;
      if (state(group.name) !== 'running') {
        this.announced.delete(group.name);
        continue;
      }
      const last = this.announced.get(group.name);
      // Just started: its start script announced the address already.
      if (!last) {
        this.announced.set(group.name, { view: key, at: mono, running: false });
        continue;
      }
      const refresh = this.settings.garpRefreshMs;
      const why = last.view !== key ? `the view changed (${key})` : refresh > 0 && mono - last.at >= refresh ? `refresh every ${refresh} ms` : undefined;
      if (why === undefined || last.running) continue;
      this.run(announce, group, last, key, mono, why);
    }
  }

  private run(announce: NonNullable<FailoverHost['announce']>, group: GroupSettings, last: Announced, key: string, mono: number, why: string): void {
    Object.assign(last, { view: key, at: mono, running: true });
    announce.call(this.host, group, why, () => {
      last.running = false;
    });
  }
}

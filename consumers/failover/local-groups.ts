// What runs here: this node's state of each group, its start and stop
// scripts, and the FailoverGroup reports it raises about them. The runtime
// (runtime.ts) decides; this file carries the decision out and says so.
import type { EventDraft } from '../../services/eventd/sdk/index.js';
import { groupClass, type GroupState, type Ledger } from './ledger.js';
import type { FailoverHost, ScriptHandle } from './host.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

export interface Local {
  state: 'stopped' | 'claiming' | 'starting' | 'running' | 'stopping';
  claimId?: string | undefined;
  claimedAt?: number;
  /** Why this node claimed it: the start script's EVENTD_REASON. */
  reason?: string;
  /** No new claim before this time (after a claim that found no majority). */
  backoffUntil?: number;
  script?: ScriptHandle | undefined;
  /** Bumped at each script start, so a killed script's late completion is ignored. */
  run: number;
}

export class LocalGroups {
  private readonly local = new Map<string, Local>();
  /** A stop failed or overran its lease: what it left running is unknown, so the watchdog is petted no more. */
  unsafe = false;

  constructor(private readonly host: FailoverHost, private readonly settings: FailoverSettings, private readonly ledger: Ledger) {
    for (const group of settings.groups) this.local.set(group.name, { state: 'stopped', run: 0 });
  }

  get(group: string): Local {
    return this.local.get(group)!;
  }

  state(group: string): Local['state'] {
    return this.local.get(group)?.state ?? 'stopped';
  }

  /** A claim names the claim it replaces and carries the group's lease, so a voter that does not run the group (a witness) knows what to wait out. */
  claim(group: GroupSettings, from: string | null, reason: string): void {
    const local = this.get(group.name);
    local.state = 'claiming';
    local.claimedAt = this.host.mono();
    local.reason = reason;
    const fromClaim = this.ledger.ownerClaim(group.name);
    local.claimId = this.report(group, 'starting', reason, { ...(from === null ? {} : { from }), ...(fromClaim === null ? {} : { fromClaim }), leaseMs: group.leaseMs });
  }

  /** A claim refused or without a majority in time: release it (so folds that granted it let go) and back off by rank. */
  giveUp(group: GroupSettings, view: readonly string[], mono: number): void {
    const local = this.get(group.name);
    const refused = this.ledger.granted(local.claimId!) === false;
    this.dropClaim(group, 'claim not confirmed by a majority', refused);
    const rank = Math.max(0, view.indexOf(this.host.node));
    local.backoffUntil = mono + this.settings.fenceMs + 250 * (rank + 1);
  }

  dropClaim(group: GroupSettings, reason: string, refused = false): void {
    const local = this.get(group.name);
    local.state = 'stopped';
    local.claimId = undefined;
    if (!refused) this.report(group, 'stopped', reason);
  }

  start(group: GroupSettings): void {
    const local = this.get(group.name);
    local.state = 'starting';
    const run = ++local.run;
    local.script = this.host.run(group, 'start', local.reason ?? 'placed here', group.timeoutMs, (ok, detail) => {
      if (local.run !== run) return;
      local.script = undefined;
      if (ok) {
        local.state = 'running';
        this.report(group, 'running', 'start succeeded');
      } else {
        local.state = 'stopped';
        this.host.warn(`failover group ${group.name}: start failed (${detail})`, { group: group.name });
        this.report(group, 'failed', `start ${detail}`);
      }
    });
  }

  /** `failure`: the group was unhealthy here; once stopped it is reported failed (a failed start), not stopped. */
  stop(group: GroupSettings, reason: string, failure = false): void {
    const local = this.get(group.name);
    local.script?.kill();
    local.state = 'stopping';
    this.report(group, 'stopping', reason);
    const run = ++local.run;
    local.script = this.host.run(group, 'stop', reason, group.timeoutMs, (ok, detail) => {
      if (local.run !== run) return;
      local.script = undefined;
      local.state = 'stopped';
      if (ok) this.report(group, failure ? 'failed' : 'stopped', reason);
      else this.stopFailed(group, `stop ${detail}`);
    });
  }

  /**
   * The lease lapses with the stop still running: peers may take over from
   * now on (they count on the watchdog), so this node pets it no more and
   * its machine resets. The stop goes on (killing it would leave a service
   * half stopped); its end is still reported.
   */
  overran(group: GroupSettings): void {
    if (this.unsafe) return;
    this.unsafe = true;
    this.host.warn(`failover group ${group.name}: its stop outlasted the lease; the watchdog is no longer petted`, { group: group.name });
  }

  private stopFailed(group: GroupSettings, detail: string): void {
    // What the stop left running is unknown: with a watchdog, this node resets itself; peers wait for that.
    this.unsafe = true;
    this.host.warn(`failover group ${group.name}: ${detail}; it stays here until this node is down`, { group: group.name });
    this.report(group, 'failed', detail, { stopFailed: true });
  }

  report(group: GroupSettings, state: GroupState, reason: string, extra: Record<string, string | number | boolean> = {}): string {
    const draft: EventDraft = {
      type: state === 'failed' || state === 'stopping' ? 'event' : 'rearm',
      subscription: 'failover',
      subscriptionName: 'failover',
      class: groupClass,
      resource: group.name,
      node: this.host.node,
      expr: `state = "${state}"`,
      attrs: { node: this.host.node, state, reason, ...extra },
      time: new Date(this.host.now()).toISOString(),
    };
    return this.host.raise(draft, 'agreed');
  }
}

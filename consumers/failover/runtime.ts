// The failover loop of one node. Every node folds the same agreed
// FailoverGroup events (ledger.ts) and computes the same placement
// (placement.ts), so each knows which groups are its own with no leader.
//
// Safety, "never two holders", through stalls, one-way cuts and stops:
// - a node starts a group only after its claim won in the agreed order, with
//   votes from a majority of the configured nodes (each node votes only for
//   claims its own fold granted), so folds that differ around a membership
//   change never let two claims through;
// - a holder keeps a group only while it holds a lease: a majority (itself
//   and floor(size/2) peers) acknowledged its heartbeats within leaseMs
//   (cluster/core/lease.ts). It starts stopping when less than stopBudgetMs
//   is left; a stop still running when the lease lapses, or a failed stop,
//   ends the watchdog's petting (the machine resets: SBD's rule);
// - a takeover from a holder that is not known to have stopped gets a node's
//   vote (and claim) only once that node has not heard the holder for the
//   group's leaseMs + the holder's watchdog timeout + a margin: every ack the
//   holder's lease could still rest on came from a heartbeat sent before,
//   and a majority of voters meets every majority of ackers, so by then the
//   holder's lease has lapsed, its stop is over, and a stalled holder has
//   been reset by its watchdog (it stops petting when its lease lapses);
// - a node that just woke from a stall of its own judges no silence until
//   it has listened for a while (queued frames are read after timers).
//
// Sans-IO like the cluster core: the host (index.ts in the daemon, the
// simulator in tests) supplies the clocks, the view, the acks, raising
// events and running scripts, and calls tick() on its own timer.
import type { EventDraft, EventRecord } from '../../services/eventd/sdk/index.js';
import { controlClass, Controls, type Constraint, type ControlAttrs } from './controls.js';
import { groupClass, Ledger, nodeClass, voteClass, type GroupState } from './ledger.js';
import { Fencer } from './fencing.js';
import { checkControl, placementOf } from './operator.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

import { failoverTickMs, leaseMarginMs, type FailoverHost, type ScriptHandle } from './host.js';

export { failoverTickMs, leaseMarginMs, type FailoverHost, type ScriptHandle } from './host.js';
/** A claim without a majority of votes by then is given up (and retried after a backoff). */
const claimTimeoutMs = 3000;
/** A pause of this node's own loop longer than this is a stall: silences are not judged until it has listened again. */
const stallMs = 250;
/** How long a node listens after a stall before it judges any silence. */
const listenAfterStallMs = 600;

interface Local {
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

export interface GroupView {
  name: string;
  owner: string | null;
  target: string | null;
  local: string;
  /** false while unmanaged (or the cluster is in maintenance): no script runs, state is still reported. */
  managed: boolean;
  /** Live operator moves and bans, with their expiry. */
  constraints: Constraint[];
  /** Fail counts per node (within failureTimeout). */
  failures: Record<string, number>;
  reports: Array<ReturnType<Ledger['reports']>[number] & { inView: boolean }>;
}

export class FailoverRuntime {
  readonly ledger: Ledger;
  readonly controls = new Controls();
  /** When the agreed view last changed (mono): placing a homeless group waits for it to hold still for fenceMs. */
  private viewSince = 0;
  private lastView = '';
  private readonly local = new Map<string, Local>();
  private stopped = false;
  /** SIGTERM: nothing new is claimed; the groups here are being stopped. */
  private draining = false;
  /** A stop failed or overran its lease: what it left running is unknown, so the watchdog is petted no more. */
  private unsafe = false;
  private startedAt = 0;
  private lastPassAt: number | undefined;
  /** After a stall of this node's own loop: no silence is judged before this (mono). */
  private listenUntil = 0;
  private readonly voted = new Set<string>();
  /** Monitor subscription id -> its group. */
  private readonly monitors = new Map<string, GroupSettings>();
  private monitorWarnedAt = -Infinity;
  private ticking = false;
  private again = false;
  /** Resolves drain() once nothing runs here. */
  private drained: (() => void) | undefined;
  /** Groups whose stale report of an earlier life is being corrected: not claimed until the correction is folded. */
  private readonly correcting = new Set<string>();
  /** Runs failover.fence against a lost holder before a takeover starts (absent: the lease rule alone). */
  private readonly fencer: Fencer | undefined;

  constructor(
    private readonly host: FailoverHost,
    readonly settings: FailoverSettings,
  ) {
    for (const group of settings.groups) this.local.set(group.name, { state: 'stopped', run: 0 });
    const fence = host.fence;
    this.fencer = settings.fence && fence ? new Fencer({ ...host, fence: (target, reason, done) => fence(target, reason, done) }) : undefined;
    this.ledger = new Ledger(() => this.host.size(), (name) => settings.groups.find((g) => g.name === name)?.failureTimeoutMs ?? 0);
  }

  /** Folds the log so far; reports left by an earlier life of this node are corrected (nothing runs here now). */
  start(history: EventRecord[]): void {
    for (const event of history) {
      if (event.class === controlClass) this.controls.apply(event);
      this.ledger.apply(event);
    }
    this.startedAt = this.host.mono();
    this.raiseNode();
    for (const group of this.settings.groups) {
      const last = this.ledger.lastState(group.name, this.host.node);
      if (last !== 'starting' && last !== 'running' && last !== 'stopping') continue;
      this.correcting.add(group.name);
      this.report(group, 'stopped', 'eventd restarted: not running here');
    }
    this.tick();
  }

  /** Events committed to the log, in order. */
  observe(events: EventRecord[]): void {
    let relevant = false;
    for (const event of events) {
      if (event.type === 'event' && event.node === this.host.node && this.monitors.has(event.subscription)) {
        this.unhealthy(this.monitors.get(event.subscription)!, event);
        continue;
      }
      if (event.class === controlClass) this.controls.apply(event);
      else if (event.class !== groupClass && event.class !== nodeClass && event.class !== voteClass) continue;
      this.ledger.apply(event);
      relevant = true;
    }
    if (relevant) this.tick();
  }

  /** The daemon stops: the groups stay where they are (onShutdown "leave", or after drain()). */
  stop(): void {
    this.stopped = true;
  }

  /** onShutdown "stop": stops every group running here and resolves once each stop is over (or failed). */
  drain(): Promise<void> {
    this.draining = true;
    for (const group of this.settings.groups) {
      const local = this.local.get(group.name)!;
      if (local.state === 'running' || local.state === 'starting') this.stopGroup(group, 'eventd stopping');
      else if (local.state === 'claiming') this.dropClaim(group, local, 'eventd stopping');
    }
    return new Promise((resolve) => {
      this.drained = resolve;
      this.tick();
    });
  }

  /** This node's state of a group: what the simulator's checker reads. */
  localState(group: string): Local['state'] {
    return this.local.get(group)?.state ?? 'stopped';
  }

  /** Whether this node pets its watchdog now (the simulator's checker reads it too). */
  pettable(): boolean {
    if (this.unsafe) return false;
    const age = this.host.leaseAgeMs();
    return this.settings.groups.every((group) => this.local.get(group.name)!.state === 'stopped' || this.local.get(group.name)!.state === 'claiming' || age < group.leaseMs);
  }

  groups(): GroupView[] {
    const placement = this.placement();
    const view = this.host.view();
    const now = this.host.now();
    return this.settings.groups.map((group) => ({
      name: group.name,
      owner: this.ledger.owner(group.name),
      target: placement.get(group.name) ?? null,
      local: this.local.get(group.name)!.state,
      managed: this.controls.managed(group.name),
      constraints: this.controls.constraints(group.name, now),
      failures: Object.fromEntries(view.map((node) => [node, this.ledger.failures(group.name, node, now, group.failureTimeoutMs)]).filter(([, n]) => n !== 0)),
      reports: this.ledger.reports(group.name).map((report) => ({ ...report, inView: view.includes(report.node) })),
    }));
  }

  /** What GET /v1/groups answers. */
  status(): { groups: GroupView[]; maintenance: boolean; standby: string[] } {
    return { groups: this.groups(), maintenance: this.controls.maintenance(), standby: this.controls.standby() };
  }

  /**
   * Raising an event commits it and hands it straight back to observe(),
   * which ticks: a tick inside a tick only asks for one more pass.
   */
  tick(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        this.pass();
      } while (this.again);
    } finally {
      this.ticking = false;
    }
    if (!this.stopped && this.pettable()) this.host.pet?.();
    if (this.drained && [...this.local.values()].every((local) => local.state === 'stopped')) {
      this.drained();
      this.drained = undefined;
    }
  }

  private pass(): void {
    if (this.stopped) return;
    const me = this.host.node;
    const view = this.host.view();
    const mono = this.host.mono();
    if (this.lastPassAt !== undefined && mono - this.lastPassAt > stallMs) this.listenUntil = mono + listenAfterStallMs;
    this.lastPassAt = mono;
    this.ensureMonitors();
    this.vote();
    const viewKey = view.join(',');
    if (viewKey !== this.lastView) {
      this.lastView = viewKey;
      this.viewSince = mono;
    }
    const quorum = this.host.hasQuorum();
    const leaseAge = this.host.leaseAgeMs();
    const placement = this.placement();
    for (const group of this.settings.groups) {
      const local = this.local.get(group.name)!;
      const owner = this.ledger.owner(group.name);
      const leaseLeft = group.leaseMs - leaseAge;
      // Unmanaged (or maintenance): hands off; whatever runs keeps running, nothing is started or stopped.
      if (!this.controls.managed(group.name)) continue;
      const moved = this.controls.moveOf(group.name, this.host.now());
      if (local.state === 'stopping') {
        // The stop must be over before the lease lapses: past that, peers may be taking over.
        if (leaseLeft <= failoverTickMs) this.overran(group);
        continue;
      }
      if (local.state === 'running' || local.state === 'starting') {
        if (!quorum) {
          this.stopGroup(group, 'fenced: lost quorum');
          continue;
        }
        if (leaseLeft < group.stopBudgetMs + failoverTickMs) {
          this.stopGroup(group, `fenced: lease lapsing (a majority acknowledged no heartbeat within ${group.leaseMs} ms)`);
          continue;
        }
      }
      if (!quorum || this.draining) {
        if (local.state === 'claiming') this.dropClaim(group, local, this.draining ? 'eventd stopping' : 'lost quorum');
        continue;
      }
      if (local.state === 'claiming' && local.claimId !== undefined) {
        if (this.ledger.confirmed(local.claimId) && owner === me) {
          // Won; a holder not known to be stopped gets its lease to lapse first.
          const from = this.ledger.claim(local.claimId)?.from ?? null;
          // And only with a lease that leaves room for a start and a stop.
          if (this.released(group, from, me, view, true) && leaseLeft >= group.stopBudgetMs + 2 * failoverTickMs) this.startGroup(group);
        } else if (this.ledger.granted(local.claimId) === false || mono - (local.claimedAt ?? mono) > claimTimeoutMs) this.giveUp(group, local, view, mono);
        continue;
      }
      const target = placement.get(group.name) ?? null;
      if (local.state === 'running' && (owner !== me || target !== me)) {
        this.stopGroup(group, owner !== me ? `${owner ?? 'nobody'} owns it` : moved === target && target !== null ? `moved by operator to ${target}` : this.controls.isStandby(me) ? 'node in standby' : `placement moved it to ${target ?? 'nowhere'}`);
        continue;
      }
      if (this.correcting.has(group.name)) {
        if (this.ledger.lastState(group.name, me) !== 'stopped') continue;
        this.correcting.delete(group.name);
      }
      if (target !== me || local.state !== 'stopped' || mono < (local.backoffUntil ?? 0)) continue;
      if (owner === me) {
        // Ours in this node's ledger but not running here: a restart after a crash. The ledger may be stale (a
        // peer may have taken over while this node was down), so claim it again from itself: the agreed order
        // and the votes say whether it still is ours.
        this.claim(group, me, 'restarted: claiming it back');
      } else if (owner === null) {
        if (moved === me) this.claim(group, null, 'moved by operator');
        else if (this.mayPlace(view, mono)) this.claim(group, null, 'placed here');
      } else if (!view.includes(owner) && this.released(group, owner, me, view)) {
        this.claim(group, owner, `taking over from ${owner}`);
      }
    }
  }

  /** A homeless group is placed once the view held still for fenceMs and, after a start, the whole cluster is in it or startupWaitMs passed. */
  private mayPlace(view: readonly string[], mono: number): boolean {
    if (mono - this.viewSince < this.settings.fenceMs) return false;
    return view.length >= this.host.size() || mono - this.startedAt >= this.settings.startupWaitMs;
  }

  /**
   * The holder a claim replaces is no obstacle: none, the claimer itself, it
   * reported the group stopped (or failed to start it), or it is out of the
   * view and this node has not heard it for longer than its lease and its
   * watchdog could keep it running.
   */
  private released(group: GroupSettings, from: string | null, claimer: string, view: readonly string[], starting = false): boolean {
    if (from === null || from === claimer) return true;
    const state = this.ledger.lastState(group.name, from);
    if (state === 'stopped' || (state === 'failed' && !this.ledger.stuck(group.name))) return true;
    if (view.includes(from)) {
      this.fencer?.forget(from);
      return false;
    }
    if (this.host.mono() < this.listenUntil) return false;
    // With a fence script, voters leave the wait to the claimer, who starts only once its fence of the holder succeeded.
    if (this.fencer) return !starting || this.fencer.fenced(from, `taking over ${group.name} from ${from}`);
    return this.host.silentForMs(from) >= this.takeoverWaitMs(group, from);
  }

  /** How long a holder must have been silent before its lease has surely lapsed and its watchdog has reset it. */
  takeoverWaitMs(group: GroupSettings, holder: string): number {
    return group.leaseMs + (this.ledger.watchdogMs(holder) ?? 0) + leaseMarginMs;
  }

  /** Votes for every claim this node's fold granted and it has not voted for yet. */
  private vote(): void {
    const view = this.host.view();
    for (const claimId of this.ledger.openGrantedClaims()) {
      if (this.ledger.hasVoted(claimId, this.host.node) || this.voted.has(claimId)) continue;
      // A takeover gets this node's vote only once this node, too, knows the holder stopped or its lease lapsed.
      const claim = this.ledger.claim(claimId);
      const group = claim && this.settings.groups.find((g) => g.name === claim.group);
      if (!claim || !group || !this.released(group, claim.from, claim.claimer, view)) continue;
      this.voted.add(claimId);
      this.host.raise({
        type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: voteClass, resource: claimId, node: this.host.node,
        expr: 'vote', attrs: { claim: claimId, node: this.host.node }, time: new Date(this.host.now()).toISOString(),
      }, 'fifo');
    }
  }

  /** Makes the monitor subscriptions once the daemon can (subscriptions are restored after consumers start). */
  private ensureMonitors(): void {
    for (const group of this.settings.groups) {
      if (!group.monitor || [...this.monitors.values()].includes(group)) continue;
      try {
        this.monitors.set(this.host.monitor(group), group);
      } catch (error) {
        if (this.host.mono() - this.monitorWarnedAt > 60_000) {
          this.monitorWarnedAt = this.host.mono();
          this.host.warn(`failover group ${group.name}: monitor not set up yet: ${String(error)}`, { group: group.name });
        }
      }
    }
  }

  /** The group's monitor fired here: stop it, then report it failed (a start failure), so placement moves it after maxStartFailures. */
  private unhealthy(group: GroupSettings, event: EventRecord): void {
    const local = this.local.get(group.name)!;
    if (local.state !== 'running' && local.state !== 'starting') return;
    this.stopGroup(group, `monitor ${event.subscriptionName} fired on ${event.resource}`, true);
  }

  private claim(group: GroupSettings, from: string | null, reason: string): void {
    const local = this.local.get(group.name)!;
    local.state = 'claiming';
    local.claimedAt = this.host.mono();
    local.reason = reason;
    const fromClaim = this.ledger.ownerClaim(group.name);
    local.claimId = this.report(group, 'starting', reason, { ...(from === null ? {} : { from }), ...(fromClaim === null ? {} : { fromClaim }) });
  }

  /** A claim refused or without a majority in time: release it (so folds that granted it let go) and back off by rank. */
  private giveUp(group: GroupSettings, local: Local, view: string[], mono: number): void {
    const refused = this.ledger.granted(local.claimId!) === false;
    this.dropClaim(group, local, 'claim not confirmed by a majority', refused);
    const rank = Math.max(0, view.indexOf(this.host.node));
    local.backoffUntil = mono + this.settings.fenceMs + 250 * (rank + 1);
  }

  private dropClaim(group: GroupSettings, local: Local, reason: string, refused = false): void {
    local.state = 'stopped';
    local.claimId = undefined;
    if (!refused) this.report(group, 'stopped', reason);
  }

  private startGroup(group: GroupSettings): void {
    const local = this.local.get(group.name)!;
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
  private stopGroup(group: GroupSettings, reason: string, failure = false): void {
    const local = this.local.get(group.name)!;
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
  private overran(group: GroupSettings): void {
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

  private report(group: GroupSettings, state: GroupState, reason: string, extra: Record<string, string | boolean> = {}): string {
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

  /** This node's capacity and watchdog timeout, for every fold (peers wait for the watchdog before taking over). */
  private raiseNode(): void {
    const watchdogMs = this.settings.watchdog?.timeoutMs ?? 0;
    if (this.ledger.capacity(this.host.node) === this.settings.capacity && (this.ledger.watchdogMs(this.host.node) ?? 0) === watchdogMs) return;
    this.host.raise({
      type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: nodeClass, resource: this.host.node, node: this.host.node,
      expr: 'capacity', attrs: { capacity: this.settings.capacity, watchdogMs }, time: new Date(this.host.now()).toISOString(),
    }, 'agreed');
  }

  private placement(): Map<string, string | null> {
    return placementOf(this, this.host.view(), this.host.now());
  }

  /**
   * An operator's control (eventctl groups move/ban/clear/..., node standby,
   * maintenance): checked against the folds first (a move that cannot be
   * satisfied throws and raises nothing), then raised as an agreed event;
   * every node applies it at the same position in the log.
   */
  control(control: ControlAttrs): { id: string; control: ControlAttrs } {
    checkControl(this, control, this.host.view(), this.host.now());
    const attrs: Record<string, string | number | boolean> = { action: control.action };
    if (control.group !== undefined) attrs['group'] = control.group;
    if (control.node !== undefined) attrs['node'] = control.node;
    if (control.expiresAt !== undefined) attrs['expiresAt'] = control.expiresAt;
    if (control.on !== undefined) attrs['on'] = control.on;
    const id = this.host.raise({
      type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: controlClass,
      resource: control.group ?? control.node ?? 'cluster', node: this.host.node, expr: control.action, attrs, time: new Date(this.host.now()).toISOString(),
    }, 'agreed');
    return { id, control };
  }
}

// The failover loop of one node. Every node folds the same agreed
// FailoverGroup events (ledger.ts) and computes the same placement
// (placement.ts), so each knows which groups are its own with no leader.
//
// Safety, "never two holders in a partition with quorum":
// - a node starts a group only after its claim won in the agreed order, and
//   it claims only from the owner it replaces, once that owner has stopped
//   or has been out of the agreed view for fenceMs;
// - a node that hears no majority (reachable <= size / 2) stops its groups at
//   once: it has fenceMs to be done before the majority may take over;
// - a minority cannot deliver agreed events, so it can never win a claim;
// - a claim also needs votes from a majority of the configured nodes (each
//   node votes only for the claims its own fold granted), so even folds that
//   differ around a membership change never let two claims through.
//
// Sans-IO like the cluster core: the host (index.ts in the daemon, the
// simulator in tests) supplies the clock, the view, raising events and
// running scripts, and calls tick() on its own timer.
import type { EventDraft, EventRecord, Order } from '../../services/eventd/sdk/index.js';
import { groupClass, Ledger, nodeClass, voteClass, type GroupState } from './ledger.js';
import { place } from './placement.js';
import type { FailoverSettings, GroupSettings } from './settings.js';

/** How often the host should call tick(). */
export const failoverTickMs = 50;
/** A claim without a majority of votes by then is given up (and retried after a backoff). */
const claimTimeoutMs = 3000;

/** A start or stop script in flight. */
export interface ScriptHandle {
  kill(): void;
}

/** What the runtime needs from its surroundings. */
export interface FailoverHost {
  readonly node: string;
  now(): number;
  /** The agreed view (this node alone on a single node). */
  view(): string[];
  /** Whether this node hears a majority of the configured nodes now (always true on a single node). */
  hasQuorum(): boolean;
  /** The configured cluster size (a claim needs votes from more than half of it). */
  size(): number;
  /** Records and commits one event of this node, through the cluster; returns its id. */
  raise(draft: EventDraft, order: Order): string;
  /** Runs a group's start or stop; `done` is called once, with whether it succeeded. */
  run(group: GroupSettings, action: 'start' | 'stop', reason: string, timeoutMs: number, done: (ok: boolean, detail: string) => void): ScriptHandle;
  warn(message: string, details: Record<string, unknown>): void;
  /** The id of the local subscription watching the group's health (made on first call); throws while not possible yet. */
  monitor(group: GroupSettings): string;
}

interface Local {
  state: 'stopped' | 'claiming' | 'starting' | 'running' | 'stopping';
  claimId?: string | undefined;
  claimedAt?: number;
  /** No new claim before this time (after a claim that found no majority). */
  backoffUntil?: number;
  script?: ScriptHandle | undefined;
  /** Bumped at each script start, so a killed script's late completion is ignored. */
  run: number;
}

export class FailoverRuntime {
  private readonly ledger: Ledger;
  /** When the agreed view last changed: claims wait for it to hold still for fenceMs. */
  private viewSince = 0;
  private lastView = '';
  private readonly local = new Map<string, Local>();
  /** When each node was last seen leaving the agreed view (ms, this node's clock). */
  private readonly downSince = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly host: FailoverHost,
    private readonly settings: FailoverSettings,
  ) {
    for (const group of settings.groups) this.local.set(group.name, { state: 'stopped', run: 0 });
    this.ledger = new Ledger(() => this.host.size());
  }

  /** Folds the log so far; a group the ledger says is ours (running before a crash) is started again at the next tick. */
  start(history: EventRecord[]): void {
    for (const event of history) this.ledger.apply(event);
    this.raiseCapacity();
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
      if (event.class !== groupClass && event.class !== nodeClass && event.class !== voteClass) continue;
      this.ledger.apply(event);
      relevant = true;
    }
    if (relevant) this.tick();
  }

  /** Votes for every claim this node's fold granted and it has not voted for yet. */
  private vote(): void {
    const view = this.host.view();
    for (const claimId of this.ledger.openGrantedClaims()) {
      if (this.ledger.hasVoted(claimId, this.host.node) || this.voted.has(claimId)) continue;
      // A takeover gets this node's vote only once this node, too, sees the holder gone or stopped: a claimer
      // with a stale view (the holder is back) then finds no majority.
      const claim = this.ledger.claim(claimId);
      if (claim && !this.released(claim.group, claim.from, claim.claimer, view)) continue;
      this.voted.add(claimId);
      this.host.raise({
        type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: voteClass, resource: claimId, node: this.host.node,
        expr: 'vote', attrs: { claim: claimId, node: this.host.node }, time: new Date(this.host.now()).toISOString(),
      }, 'fifo');
    }
  }

  private readonly voted = new Set<string>();
  /** Monitor subscription id -> its group. */
  private readonly monitors = new Map<string, GroupSettings>();

  /** Makes the monitor subscriptions once the daemon can (subscriptions are restored after consumers start). */
  private ensureMonitors(): void {
    for (const group of this.settings.groups) {
      if (!group.monitor || [...this.monitors.values()].includes(group)) continue;
      try {
        this.monitors.set(this.host.monitor(group), group);
      } catch (error) {
        if (this.host.now() - this.monitorWarnedAt > 60_000) {
          this.monitorWarnedAt = this.host.now();
          this.host.warn(`failover group ${group.name}: monitor not set up yet: ${String(error)}`, { group: group.name });
        }
      }
    }
  }

  private monitorWarnedAt = 0;

  /** The group's monitor fired here: stop it, then report it failed (a start failure), so placement moves it after maxStartFailures. */
  private unhealthy(group: GroupSettings, event: EventRecord): void {
    const local = this.local.get(group.name)!;
    if (local.state !== 'running' && local.state !== 'starting') return;
    this.stopGroup(group, `monitor ${event.subscriptionName} fired on ${event.resource}`, true);
  }

  /** The holder a claim replaces is no obstacle: none, the claimer itself, out of the view, or it reported the group stopped. */
  private released(group: string, from: string | null, claimer: string, view: readonly string[]): boolean {
    if (from === null || from === claimer || !view.includes(from)) return true;
    const state = this.ledger.lastState(group, from);
    return state === 'stopped' || (state === 'failed' && !this.ledger.stuck(group));
  }

  /** The daemon stops: the groups stay where they are (a restart takes them up again, or the peers after fenceMs). */
  stop(): void {
    this.stopped = true;
  }

  /** This node's state of a group: what the simulator's checker reads. */
  localState(group: string): Local['state'] {
    return this.local.get(group)?.state ?? 'stopped';
  }

  groups(): Array<{ name: string; owner: string | null; target: string | null; local: string; reports: ReturnType<Ledger['reports']> }> {
    const placement = this.placement();
    return this.settings.groups.map((group) => ({
      name: group.name,
      owner: this.ledger.owner(group.name),
      target: placement.get(group.name) ?? null,
      local: this.local.get(group.name)!.state,
      reports: this.ledger.reports(group.name),
    }));
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
  }

  private ticking = false;
  private again = false;

  private pass(): void {
    if (this.stopped) return;
    const me = this.host.node;
    const view = this.host.view();
    const now = this.host.now();
    this.ensureMonitors();
    this.vote();
    const viewKey = view.join(',');
    if (viewKey !== this.lastView) {
      this.lastView = viewKey;
      this.viewSince = now;
    }
    for (const name of this.downSince.keys()) if (view.includes(name)) this.downSince.delete(name);
    for (const report of this.knownNodes()) if (!view.includes(report) && !this.downSince.has(report)) this.downSince.set(report, now);
    const quorum = this.host.hasQuorum();
    const placement = this.placement();
    for (const group of this.settings.groups) {
      const local = this.local.get(group.name)!;
      const owner = this.ledger.owner(group.name);
      if (!quorum) {
        if (local.state === 'running' || local.state === 'starting' || local.state === 'claiming') this.stopGroup(group, 'lost quorum: fencing itself');
        continue;
      }
      if (local.state === 'claiming' && local.claimId !== undefined) {
        if (this.ledger.confirmed(local.claimId) && owner === me) {
          // Won; a holder still alive in this view gets to finish its stop first.
          const from = this.ledger.claim(local.claimId)?.from ?? null;
          if (this.released(group.name, from, me, view)) this.startGroup(group);
        } else if (this.ledger.granted(local.claimId) === false || now - (local.claimedAt ?? now) > claimTimeoutMs) this.giveUp(group, local, view, now);
        continue;
      }
      const target = placement.get(group.name) ?? null;
      if (local.state === 'running' && (owner !== me || target !== me)) {
        this.stopGroup(group, owner !== me ? `${owner ?? 'nobody'} owns it` : `placement moved it to ${target ?? 'nowhere'}`);
        continue;
      }
      if (target !== me || local.state !== 'stopped') continue;
      if (owner === me) {
        // Ours in this node's ledger but not running here: a restart after a crash. The ledger may be stale (a
        // peer may have taken over while this node was down), so claim it again from itself: the agreed order
        // and the votes say whether it still is ours.
        if (now >= (local.backoffUntil ?? 0)) this.claim(group, me);
      } else if (this.mayClaim(group.name, owner, view, now)) {
        this.claim(group, owner);
      }
    }
  }

  private mayClaim(group: string, owner: string | null, view: string[], now: number): boolean {
    const local = this.local.get(group)!;
    if (now < (local.backoffUntil ?? 0) || now - this.viewSince < this.settings.fenceMs) return false;
    if (owner === null) return true;
    if (view.includes(owner)) return false;
    // The owner is out of the view: it has had fenceMs since then to stop (it fenced itself on losing quorum).
    return now - (this.downSince.get(owner) ?? now) >= this.settings.fenceMs && !(this.ledger.stuck(group) && view.includes(owner));
  }

  private claim(group: GroupSettings, from: string | null): void {
    const local = this.local.get(group.name)!;
    local.state = 'claiming';
    local.claimedAt = this.host.now();
    const fromClaim = this.ledger.ownerClaim(group.name);
    const reason = from === null ? 'placed here' : from === this.host.node ? 'restarted: claiming it back' : `taking over from ${from}`;
    local.claimId = this.report(group, 'starting', reason, { ...(from === null ? {} : { from }), ...(fromClaim === null ? {} : { fromClaim }) });
  }

  /** A claim refused or without a majority in time: release it (so folds that granted it let go) and back off by rank. */
  private giveUp(group: GroupSettings, local: Local, view: string[], now: number): void {
    const refused = this.ledger.granted(local.claimId!) === false;
    local.state = 'stopped';
    local.claimId = undefined;
    if (!refused) this.report(group, 'stopped', 'claim not confirmed by a majority');
    const rank = Math.max(0, view.indexOf(this.host.node));
    local.backoffUntil = now + this.settings.fenceMs + 250 * (rank + 1);
  }

  private startGroup(group: GroupSettings): void {
    const local = this.local.get(group.name)!;
    local.state = 'starting';
    const run = ++local.run;
    local.script = this.host.run(group, 'start', 'placed here', group.timeoutMs, (ok, detail) => {
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
    // A stop when fencing must be over within fenceMs: the majority takes over then.
    const timeoutMs = this.host.hasQuorum() ? group.timeoutMs : Math.max(1, this.settings.fenceMs);
    local.script = this.host.run(group, 'stop', reason, timeoutMs, (ok, detail) => {
      if (local.run !== run) return;
      local.script = undefined;
      local.state = 'stopped';
      if (ok) this.report(group, failure ? 'failed' : 'stopped', reason);
      else {
        this.host.warn(`failover group ${group.name}: stop failed (${detail}); it stays here until this node is down`, { group: group.name });
        this.report(group, 'failed', `stop ${detail}`, { stopFailed: true });
      }
    });
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

  private raiseCapacity(): void {
    if (this.ledger.capacity(this.host.node) === this.settings.capacity) return;
    this.host.raise({
      type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: nodeClass, resource: this.host.node, node: this.host.node,
      expr: 'capacity', attrs: { capacity: this.settings.capacity }, time: new Date(this.host.now()).toISOString(),
    }, 'agreed');
  }

  private placement(): Map<string, string | null> {
    const view = this.host.view();
    const current = new Map<string, string>();
    const banned = new Set<string>();
    for (const group of this.settings.groups) {
      const owner = this.ledger.owner(group.name);
      if (owner !== null) current.set(group.name, owner);
      for (const node of view) if (this.ledger.failures(group.name, node) >= this.settings.maxStartFailures) banned.add(`${group.name}\u0000${node}`);
    }
    const capacities = new Map<string, number>();
    for (const node of view) capacities.set(node, this.ledger.capacity(node) ?? 100);
    return place({
      view,
      groups: this.settings.groups.map((group) => ({ name: group.name, weight: group.weight, prefer: group.prefer })),
      capacities,
      current,
      banned,
      failback: this.settings.failback,
    });
  }

  private knownNodes(): string[] {
    const names = new Set<string>();
    for (const group of this.settings.groups) {
      const owner = this.ledger.owner(group.name);
      if (owner !== null) names.add(owner);
    }
    return [...names];
  }
}

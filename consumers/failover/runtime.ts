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
// - a node that just woke from a stall of its own judges no silence and
//   claims no group until it has listened for a while (queued frames are
//   read after timers; a stall at start tends to come again); and,
//   as memberlist's Lifeguard "local health", a node whose own loop runs late
//   waits that much longer before it votes or claims (its silences include
//   frames it has not read yet). Waiting longer never weakens the rule above.
//
// Constraints: placement keeps colocated groups on one node; a group claims
// and starts only once its `after` groups run (and a colocated one once its
// partner is owned here), stops when they no longer run, and a planned stop
// of a group waits until the groups after it have stopped (ordering.ts).
// Forced stops (lease lapsing, quorum lost) never wait: safety first.
//
// Sans-IO like the cluster core: the host (index.ts in the daemon, the
// simulator in tests) supplies the clocks, the view, the acks, raising
// events and running scripts, and calls tick() on its own timer.
import type { EventRecord } from '../../services/eventd/sdk/index.js';
import { controlClass, Controls, type ControlAttrs } from './controls.js';
import { Fencer } from './fencing.js';
import { Announcer } from './garp.js';
import { failoverTickMs, leaseMarginMs, type FailoverHost } from './host.js';
import { groupClass, Ledger, nodeClass, voteClass } from './ledger.js';
import { LocalGroups, type Local } from './local-groups.js';
import { Monitors } from './monitors.js';
import { checkControl, placementOf } from './operator.js';
import { activeDependents, afterPending, waitingFor } from './ordering.js';
import { failoverDefaults, type FailoverSettings, type GroupSettings } from './settings.js';
import { groupViews, type GroupView } from './status.js';

export { failoverTickMs, leaseMarginMs, type FailoverHost, type ScriptHandle } from './host.js';
export type { GroupView } from './status.js';
/** A claim without a majority of votes by then is given up (and retried after a backoff). */
const claimTimeoutMs = 3000;
/** A pause of this node's own loop longer than this is a stall: silences are not judged until it has listened again. */
const stallMs = 250;
/** How long a node listens after a stall before it judges any silence. */
const listenAfterStallMs = 600;
/** The own-lateness allowance (slowMs) shrinks by this share of the time passed: a 200 ms lag is forgotten after 2 s. */
const slowDecay = 0.1;

export class FailoverRuntime {
  readonly ledger: Ledger;
  readonly controls = new Controls();
  private readonly local: LocalGroups;
  private readonly monitors: Monitors;
  private readonly announcer: Announcer;
  /** When the agreed view last changed (mono): placing a homeless group waits for it to hold still for fenceMs. */
  private viewSince = 0;
  private lastView = '';
  private stopped = false;
  /** SIGTERM: nothing new is claimed; the groups here are being stopped. */
  private draining = false;
  private startedAt = 0;
  private lastPassAt: number | undefined;
  /** After a stall of this node's own loop: no silence is judged before this (mono). */
  private listenUntil = 0;
  /** How late this node's own passes ran lately (ms, decaying): added to every takeover wait (Lifeguard's local health). */
  private slowMs = 0;
  private readonly voted = new Set<string>();
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
    const fence = host.fence;
    this.fencer = settings.fence && fence ? new Fencer({ ...host, fence: (target, reason, done) => fence(target, reason, done) }) : undefined;
    this.ledger = new Ledger(() => this.host.size(), (name) => settings.groups.find((g) => g.name === name)?.failureTimeoutMs ?? 0);
    this.local = new LocalGroups(host, settings, this.ledger);
    this.monitors = new Monitors(host, settings.groups);
    this.announcer = new Announcer(host, settings);
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
      this.local.report(group, 'stopped', 'eventd restarted: not running here');
    }
    this.tick();
  }

  /** Events committed to the log, in order. */
  observe(events: EventRecord[]): void {
    let relevant = false;
    for (const event of events) {
      const unhealthy = this.monitors.unhealthy(event);
      if (unhealthy) {
        this.unhealthy(unhealthy, event);
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

  /** onShutdown "stop": stops every group running here (the groups after others first) and resolves once each stop is over (or failed). */
  drain(): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      this.drained = resolve;
      this.tick();
    });
  }

  /** This node's state of a group: what the simulator's checker reads. */
  localState(group: string): Local['state'] {
    return this.local.state(group);
  }

  /** Whether this node pets its watchdog now (the simulator's checker reads it too). */
  pettable(): boolean {
    if (this.local.unsafe) return false;
    const age = this.host.leaseAgeMs();
    return this.settings.groups.every((group) => {
      const state = this.local.state(group.name);
      return state === 'stopped' || state === 'claiming' || age < group.leaseMs;
    });
  }

  groups(): GroupView[] {
    return groupViews(this, this.host.view(), this.host.now());
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
    // An unmanaged group is left as it is, also at shutdown (Pacemaker's unmanaged resources are too).
    if (this.drained && this.settings.groups.every((group) => this.local.state(group.name) === 'stopped' || !this.controls.managed(group.name))) {
      this.drained();
      this.drained = undefined;
    }
  }

  private pass(): void {
    if (this.stopped) return;
    const me = this.host.node;
    const view = this.host.view();
    const mono = this.host.mono();
    if (this.lastPassAt !== undefined) {
      const gap = mono - this.lastPassAt;
      if (gap > stallMs) this.listenUntil = mono + listenAfterStallMs;
      this.slowMs = Math.max(Math.min(gap, stallMs) - failoverTickMs, this.slowMs - slowDecay * gap, 0);
    }
    this.lastPassAt = mono;
    this.vote();
    // A witness votes, and that is all it does.
    if (this.host.witness) return;
    this.monitors.ensure();
    const viewKey = view.join(',');
    if (viewKey !== this.lastView) {
      this.lastView = viewKey;
      this.viewSince = mono;
    }
    this.announcer.pass(view, mono, (group) => (this.controls.managed(group) ? this.local.state(group) : 'unmanaged'));
    const quorum = this.host.hasQuorum();
    const leaseAge = this.host.leaseAgeMs();
    const placement = this.placement();
    const folds = { groups: this.settings.groups, ledger: this.ledger };
    for (const group of this.settings.groups) {
      const local = this.local.get(group.name);
      const owner = this.ledger.owner(group.name);
      const leaseLeft = group.leaseMs - leaseAge;
      // Unmanaged (or maintenance): hands off; whatever runs keeps running, nothing is started or stopped.
      if (!this.controls.managed(group.name)) continue;
      const moved = this.controls.moveOf(group.name, this.host.now());
      if (local.state === 'stopping') {
        // The stop must be over before the lease lapses: past that, peers may be taking over.
        if (leaseLeft <= failoverTickMs) this.local.overran(group);
        continue;
      }
      if (local.state === 'running' || local.state === 'starting') {
        if (!quorum) {
          this.local.stop(group, 'fenced: lost quorum');
          continue;
        }
        if (leaseLeft < group.stopBudgetMs + failoverTickMs) {
          this.host.warn(`failover group ${group.name}: lease lapsing, stopping it`, { group: group.name, leaseAgeMs: Math.round(leaseAge), leaseMs: group.leaseMs, slowMs: Math.round(this.slowMs) });
          this.local.stop(group, `fenced: lease lapsing (a majority acknowledged no heartbeat within ${group.leaseMs} ms)`);
          continue;
        }
      }
      if (this.draining) {
        if (local.state === 'claiming') this.local.dropClaim(group, 'eventd stopping');
        // The groups after this one stop first when they run here too (peers' are not waited for: this node is going).
        else if ((local.state === 'running' || local.state === 'starting') && !this.dependentsHere(group)) this.local.stop(group, 'eventd stopping');
        continue;
      }
      if (!quorum) {
        if (local.state === 'claiming') this.local.dropClaim(group, 'lost quorum');
        continue;
      }
      if (local.state === 'claiming' && local.claimId !== undefined) {
        if (this.ledger.confirmed(local.claimId) && owner === me) {
          // Won; a holder not known to be stopped gets its lease to lapse first.
          const from = this.ledger.claim(local.claimId)?.from ?? null;
          // The groups it runs after may have stopped since the claim: let go rather than start before them.
          const waiting = waitingFor(folds, group, me, placement);
          if (waiting !== undefined) this.local.dropClaim(group, waiting);
          // And only with a lease that leaves room for a start and a stop.
          else if (this.released(group, from, me, view, true) && leaseLeft >= group.stopBudgetMs + 2 * failoverTickMs) this.local.start(group);
        } else if (this.ledger.granted(local.claimId) === false || mono - (local.claimedAt ?? mono) > claimTimeoutMs) this.local.giveUp(group, view, mono);
        continue;
      }
      const target = placement.get(group.name) ?? null;
      if (local.state === 'running' && (owner !== me || target !== me)) {
        // A planned stop waits for the groups after this one (peers' too) to stop first; a group another node owns stops at once.
        if (owner === me && activeDependents(folds, group.name, view).length > 0) continue;
        this.local.stop(group, owner !== me ? `${owner ?? 'nobody'} owns it` : moved === target && target !== null ? `moved by operator to ${target}` : this.controls.isStandby(me) ? 'node in standby' : `placement moved it to ${target ?? 'nowhere'}`);
        continue;
      }
      if (local.state === 'running') {
        // What it runs after is stopping or gone: it stops too, once the groups after it have (a planned stop).
        const pending = afterPending(folds, group, placement);
        if (pending.length > 0 && activeDependents(folds, group.name, view).length === 0) this.local.stop(group, `${pending.join(', ')} no longer runs (after)`);
        continue;
      }
      if (this.correcting.has(group.name)) {
        if (this.ledger.lastState(group.name, me) !== 'stopped') continue;
        this.correcting.delete(group.name);
      }
      // A node whose stop failed or overran claims nothing more: it pets its watchdog no more and is about to be reset.
      // One whose own loop just stalled (start-up, a loaded machine) claims nothing until it has run on time
      // for listenAfterStallMs: a stall right after a start eats the lease's slack, and the holder fences itself.
      if (target !== me || local.state !== 'stopped' || mono < (local.backoffUntil ?? 0) || this.local.unsafe || mono < this.listenUntil) continue;
      if (owner === me) {
        // Ours in this node's ledger but not running here: a restart after a crash. The ledger may be stale (a
        // peer may have taken over while this node was down), so claim it again from itself: the agreed order
        // and the votes say whether it still is ours.
        this.local.claim(group, me, 'restarted: claiming it back');
        continue;
      }
      if (waitingFor(folds, group, me, placement) !== undefined) continue;
      if (owner === null) {
        if (moved === me) this.local.claim(group, null, 'moved by operator');
        else if (this.mayPlace(view, mono)) this.local.claim(group, null, 'placed here');
      } else if (!view.includes(owner) && this.released(group, owner, me, view)) {
        this.local.claim(group, owner, `taking over from ${owner}`);
      }
    }
  }

  /** Whether a group after `group` still runs, starts or stops here (a drain stops those first). */
  private dependentsHere(group: GroupSettings): boolean {
    return this.settings.groups.some((other) => other.after.includes(group.name) && this.local.state(other.name) !== 'stopped');
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

  /**
   * How long a holder must have been silent before its lease has surely lapsed and its watchdog has reset it;
   * plus this node's own recent lateness, so a node slow to read its socket does not take a silence of its own for the holder's.
   */
  takeoverWaitMs(group: GroupSettings, holder: string): number {
    return group.leaseMs + (this.ledger.watchdogMs(holder) ?? 0) + leaseMarginMs + this.slowMs;
  }

  /** Votes for every claim this node's fold granted and it has not voted for yet. */
  private vote(): void {
    const view = this.host.view();
    for (const claimId of this.ledger.openGrantedClaims()) {
      if (this.ledger.hasVoted(claimId, this.host.node) || this.voted.has(claimId)) continue;
      // A takeover gets this node's vote only once this node, too, knows the holder stopped or its lease lapsed.
      const claim = this.ledger.claim(claimId);
      const group = claim && this.groupOfClaim(claim);
      if (!claim || !group || !this.released(group, claim.from, claim.claimer, view)) continue;
      this.voted.add(claimId);
      this.host.raise({
        type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: voteClass, resource: claimId, node: this.host.node,
        expr: 'vote', attrs: { claim: claimId, node: this.host.node }, time: new Date(this.host.now()).toISOString(),
      }, 'fifo');
    }
  }

  /** The group a claim is for: this node's settings of it, or (a witness that names no group) the lease the claim carries. */
  private groupOfClaim(claim: { group: string; leaseMs?: number }): GroupSettings | undefined {
    const group = this.settings.groups.find((g) => g.name === claim.group);
    if (group) return group;
    if (!this.host.witness) return undefined;
    return { name: claim.group, weight: 0, prefer: [], start: '', stop: '', timeoutMs: 0, leaseMs: claim.leaseMs ?? failoverDefaults.leaseMs, stopBudgetMs: 0, failureTimeoutMs: 0, after: [] };
  }

  /** The group's monitor fired here: stop it, then report it failed (a start failure), so placement moves it after maxStartFailures. */
  private unhealthy(group: GroupSettings, event: EventRecord): void {
    const state = this.local.state(group.name);
    if (state !== 'running' && state !== 'starting') return;
    this.local.stop(group, `monitor ${event.subscriptionName} fired on ${event.resource}`, true);
  }

  /** This node's capacity and watchdog timeout, for every fold (peers wait for the watchdog before taking over). */
  private raiseNode(): void {
    const witness = this.host.witness === true;
    const watchdogMs = witness ? 0 : this.settings.watchdog?.timeoutMs ?? 0;
    const capacity = witness ? 0 : this.settings.capacity;
    const me = this.host.node;
    if (this.ledger.capacity(me) === capacity && (this.ledger.watchdogMs(me) ?? 0) === watchdogMs && this.ledger.witness(me) === witness) return;
    this.host.raise({
      type: 'rearm', subscription: 'failover', subscriptionName: 'failover', class: nodeClass, resource: me, node: me,
      expr: 'capacity', attrs: { capacity, watchdogMs, ...(witness ? { witness } : {}) }, time: new Date(this.host.now()).toISOString(),
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

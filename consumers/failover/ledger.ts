// Who owns each group, folded from the FailoverGroup events of the log in
// delivery order. They are `agreed` events, so every node folds the same
// sequence and reaches the same owners with no leader: a claim ("starting",
// fromClaim: the claim that made the owner it replaces) is granted only if
// that still is the owner's claim when its turn comes (compare-and-swap on
// the claim, not the node, so a restarted owner re-claiming its own group
// and a peer taking it over cannot both succeed); of two racing claims the
// first in the agreed order wins, the other is refused on every node alike.
//
// Agreed order is the same everywhere except for events a node delivers late
// (around membership changes), so a claim also needs votes: every node votes
// for the claims its own fold granted, and a claimer starts only with votes
// from a majority of the configured nodes. Two conflicting claims cannot both
// have a majority (each node votes for at most one), so whatever the folds
// say, at most one of them runs the group; a claim with a majority of votes
// makes its claimer the owner in every fold.
import type { EventRecord } from '../../services/eventd/sdk/index.js';
import { controlClass, parseControl } from './controls.js';

export const groupClass = 'FailoverGroup';
export const nodeClass = 'FailoverNode';
export const voteClass = 'FailoverVote';

export type GroupState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface GroupReport {
  node: string;
  state: GroupState;
  reason?: string;
  time: string;
  eventId: string;
}

interface GroupLedger {
  owner: string | null;
  /** The claim (event id) that made the owner: what a new claim must name to replace it. */
  ownerClaim: string | null;
  /** The owner's stop failed: nobody else may start it until the owner is down. */
  stuck: boolean;
  /** Failed starts (and monitor failures) per node, as Pacemaker's fail-count, with the time (ms) of the last. */
  failures: Map<string, { count: number; last: number }>;
  /** The latest report of each node. */
  reports: Map<string, GroupReport>;
}

export class Ledger {
  private readonly groups = new Map<string, GroupLedger>();
  private readonly capacities = new Map<string, number>();
  private readonly watchdogs = new Map<string, number>();
  private readonly witnesses = new Set<string>();
  /** Claims seen, by event id: granted or not in this fold. */
  private readonly claims = new Map<string, boolean>();
  /** Per claim: its group and claimer, whether the claimer has since stopped or failed it, and who voted for it. */
  private readonly claimInfo = new Map<string, { group: string; claimer: string; from: string | null; leaseMs?: number; closed: boolean; votes: Set<string> }>();

  /**
   * `size`: the configured cluster size (a majority of it confirms a claim);
   * `failureTimeoutMs`: per group, after how long without a failure its fail count starts again (0: never).
   */
  constructor(private readonly size: () => number, private readonly failureTimeoutMs: (group: string) => number = () => 0) {}

  apply(event: EventRecord): void {
    if (event.class === voteClass) {
      this.vote(String(event.attrs['claim']), String(event.attrs['node'] ?? event.origin));
      return;
    }
    if (event.class === nodeClass) {
      const capacity = event.attrs['capacity'];
      if (typeof capacity === 'number') this.capacities.set(event.resource, capacity);
      const watchdogMs = event.attrs['watchdogMs'];
      if (typeof watchdogMs === 'number') this.watchdogs.set(event.resource, watchdogMs);
      if (event.attrs['witness'] === true) this.witnesses.add(event.resource);
      else this.witnesses.delete(event.resource);
      return;
    }
    if (event.class === controlClass) {
      const control = parseControl(event.attrs);
      // eventctl groups cleanup GROUP [NODE]: the fail counts start again from zero.
      if (control?.action === 'cleanup' && control.group !== undefined) {
        const failures = this.groups.get(control.group)?.failures;
        if (control.node === undefined) failures?.clear();
        else failures?.delete(control.node);
      }
      return;
    }
    if (event.class !== groupClass) return;
    const node = String(event.attrs['node'] ?? event.origin);
    const state = event.attrs['state'] as GroupState;
    const group = this.group(event.resource);
    const reason = typeof event.attrs['reason'] === 'string' ? event.attrs['reason'] : undefined;
    group.reports.set(node, { node, state, time: event.time, eventId: event.id, ...(reason === undefined ? {} : { reason }) });
    switch (state) {
      case 'starting': {
        const from = typeof event.attrs['from'] === 'string' ? event.attrs['from'] : null;
        const fromClaim = typeof event.attrs['fromClaim'] === 'string' ? event.attrs['fromClaim'] : null;
        const granted = group.ownerClaim === fromClaim && group.owner === from && !(group.stuck && from !== node);
        this.claims.set(event.id, granted);
        const info = this.claimInfo.get(event.id);
        const leaseMs = typeof event.attrs['leaseMs'] === 'number' ? event.attrs['leaseMs'] : undefined;
        this.claimInfo.set(event.id, { group: event.resource, claimer: node, from, ...(leaseMs === undefined ? {} : { leaseMs }), closed: false, votes: info?.votes ?? new Set() });
        if (info) this.vote(event.id, undefined);
        if (granted) this.supersede(group, event.id, node);
        break;
      }
      case 'running':
        // Like Pacemaker's fail-count (failure-timeout 0): a later good start does not wipe earlier failures.
        break;
      case 'stopped':
        this.close(event.resource, node);
        if (group.owner === node) {
          group.owner = null;
          group.ownerClaim = null;
          group.stuck = false;
        }
        break;
      case 'failed':
        this.close(event.resource, node);
        if (group.owner !== node) break;
        if (event.attrs['stopFailed'] === true) {
          group.stuck = true;
        } else {
          group.owner = null;
          group.ownerClaim = null;
          const parsed = Date.parse(event.time);
          const time = Number.isFinite(parsed) ? parsed : 0;
          const before = group.failures.get(node);
          const expire = this.failureTimeoutMs(event.resource);
          const expired = before !== undefined && expire > 0 && time - before.last >= expire;
          group.failures.set(node, { count: (expired ? 0 : before?.count ?? 0) + 1, last: time });
        }
        break;
      case 'stopping':
        break;
    }
  }

  /** A vote for a claim (it may arrive before the claim); a majority makes the claimer owner in this fold too. */
  private vote(claimId: string, voter: string | undefined): void {
    let info = this.claimInfo.get(claimId);
    if (!info) {
      info = { group: '', claimer: '', from: null, closed: false, votes: new Set() };
      this.claimInfo.set(claimId, info);
    }
    if (voter !== undefined) info.votes.add(voter);
    if (info.claimer === '' || info.closed || !this.confirmed(claimId)) return;
    const group = this.group(info.group);
    if (group.ownerClaim !== claimId) this.supersede(group, claimId, info.claimer);
  }

  /**
   * The claim becomes the owner's, and the one it replaces is closed for good:
   * a late vote for a superseded claim (a restarted claimer voting for its own
   * old claim) must not hand the group back to it (failover simulator seed 967).
   */
  private supersede(group: GroupLedger, claimId: string, claimer: string): void {
    const replaced = group.ownerClaim === null ? undefined : this.claimInfo.get(group.ownerClaim);
    if (replaced) replaced.closed = true;
    group.owner = claimer;
    group.ownerClaim = claimId;
    group.stuck = false;
  }

  private close(group: string, node: string): void {
    for (const info of this.claimInfo.values()) if (info.group === group && info.claimer === node) info.closed = true;
  }

  /** Votes for the claim from a majority of the configured nodes. */
  confirmed(claimId: string): boolean {
    return (this.claimInfo.get(claimId)?.votes.size ?? 0) * 2 > this.size();
  }

  /** The claim's group, claimer, the node it takes over from and the claimer's lease of the group; undefined before the claim itself arrived. */
  claim(claimId: string): { group: string; claimer: string; from: string | null; leaseMs?: number } | undefined {
    const info = this.claimInfo.get(claimId);
    if (info === undefined || info.claimer === '') return undefined;
    return { group: info.group, claimer: info.claimer, from: info.from, ...(info.leaseMs === undefined ? {} : { leaseMs: info.leaseMs }) };
  }

  /** The latest state `node` reported for `group`. */
  lastState(group: string, node: string): GroupState | undefined {
    return this.groups.get(group)?.reports.get(node)?.state;
  }

  hasVoted(claimId: string, node: string): boolean {
    return this.claimInfo.get(claimId)?.votes.has(node) ?? false;
  }

  /** Claims granted in this fold, not closed: the ones this node votes for. */
  openGrantedClaims(): string[] {
    return [...this.claims].filter(([id, granted]) => granted && !this.claimInfo.get(id)?.closed).map(([id]) => id);
  }

  ownerClaim(group: string): string | null {
    return this.groups.get(group)?.ownerClaim ?? null;
  }

  owner(group: string): string | null {
    return this.groups.get(group)?.owner ?? null;
  }

  stuck(group: string): boolean {
    return this.groups.get(group)?.stuck ?? false;
  }

  granted(claimId: string): boolean | undefined {
    return this.claims.get(claimId);
  }

  /** The node's fail count for the group; 0 once `expireMs` (failureTimeout) passed since the last failure, at `now`. */
  failures(group: string, node: string, now?: number, expireMs?: number): number {
    const failures = this.groups.get(group)?.failures.get(node);
    if (failures === undefined) return 0;
    if (expireMs !== undefined && expireMs > 0 && now !== undefined && now - failures.last >= expireMs) return 0;
    return failures.count;
  }

  reports(group: string): GroupReport[] {
    return [...(this.groups.get(group)?.reports.values() ?? [])].sort((a, b) => a.node.localeCompare(b.node));
  }

  capacity(node: string): number | undefined {
    return this.capacities.get(node);
  }

  /** Whether the node announced itself a witness: it runs no group. */
  witness(node: string): boolean {
    return this.witnesses.has(node);
  }

  /** The watchdog timeout the node announced (0: none); undefined before it announced anything. */
  watchdogMs(node: string): number | undefined {
    return this.watchdogs.get(node);
  }

  private group(name: string): GroupLedger {
    let group = this.groups.get(name);
    if (!group) {
      group = { owner: null, ownerClaim: null, stuck: false, failures: new Map(), reports: new Map() };
      this.groups.set(name, group);
    }
    return group;
  }
}

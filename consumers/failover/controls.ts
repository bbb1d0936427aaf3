// Operator controls: moves, bans, standby, unmanaged groups and maintenance,
// each an agreed FailoverControl event, so every node folds the same
// controls at the same position in the log and places alike (Pacemaker's
// `pcs resource move/ban/clear`, `pcs node standby`, `unmanage`,
// `maintenance-mode`). A move or ban may carry an expiry (epoch ms); an
// expired one is ignored by placement and dropped from `eventctl groups`.
import type { EventRecord } from '../../services/eventd/sdk/index.js';

export const controlClass = 'FailoverControl';

export type ControlAction = 'move' | 'ban' | 'clear' | 'standby' | 'unstandby' | 'unmanage' | 'manage' | 'maintenance' | 'cleanup';

/** What a control event carries in its attrs. */
export interface ControlAttrs {
  action: ControlAction;
  group?: string;
  node?: string;
  /** Epoch ms after which a move or ban no longer holds; absent: until cleared. */
  expiresAt?: number;
  /** maintenance: on or off. */
  on?: boolean;
}

export interface Constraint {
  kind: 'move' | 'ban';
  node: string;
  expiresAt: number | null;
}

export class Controls {
  private readonly moves = new Map<string, { node: string; expiresAt: number | null }>();
  private readonly bans = new Map<string, Map<string, number | null>>();
  private readonly standbys = new Set<string>();
  private readonly unmanaged = new Set<string>();
  private maintenanceOn = false;

  apply(event: EventRecord): void {
    const attrs = parseControl(event.attrs);
    if (attrs === undefined) return;
    const { action, group, node } = attrs;
    const expiresAt = attrs.expiresAt ?? null;
    switch (action) {
      case 'move':
        if (group && node) {
          this.moves.set(group, { node, expiresAt });
          // A move replaces a ban of the same node (pcs does the same).
          this.bans.get(group)?.delete(node);
        }
        break;
      case 'ban':
        if (group && node) {
          if (!this.bans.has(group)) this.bans.set(group, new Map());
          this.bans.get(group)!.set(node, expiresAt);
          if (this.moves.get(group)?.node === node) this.moves.delete(group);
        }
        break;
      case 'clear':
        if (group) {
          this.moves.delete(group);
          this.bans.delete(group);
        }
        break;
      case 'standby':
        if (node) this.standbys.add(node);
        break;
      case 'unstandby':
        if (node) this.standbys.delete(node);
        break;
      case 'unmanage':
        if (group) this.unmanaged.add(group);
        break;
      case 'manage':
        if (group) this.unmanaged.delete(group);
        break;
      case 'maintenance':
        this.maintenanceOn = attrs.on === true;
        break;
      case 'cleanup':
        break; // the ledger resets the fail counts
    }
  }

  /** The node a live move sends `group` to. */
  moveOf(group: string, now: number): string | undefined {
    const move = this.moves.get(group);
    return move && live(move.expiresAt, now) ? move.node : undefined;
  }

  banned(group: string, node: string, now: number): boolean {
    const ban = this.bans.get(group);
    return ban !== undefined && ban.has(node) && live(ban.get(node)!, now);
  }

  standby(): string[] {
    return [...this.standbys].sort();
  }

  isStandby(node: string): boolean {
    return this.standbys.has(node);
  }

  managed(group: string): boolean {
    return !this.unmanaged.has(group) && !this.maintenanceOn;
  }

  unmanagedGroup(group: string): boolean {
    return this.unmanaged.has(group);
  }

  maintenance(): boolean {
    return this.maintenanceOn;
  }

  /** The live moves and bans of a group, for `eventctl groups`. */
  constraints(group: string, now: number): Constraint[] {
    const out: Constraint[] = [];
    const move = this.moves.get(group);
    if (move && live(move.expiresAt, now)) out.push({ kind: 'move', node: move.node, expiresAt: move.expiresAt });
    for (const [node, expiresAt] of this.bans.get(group) ?? []) if (live(expiresAt, now)) out.push({ kind: 'ban', node, expiresAt });
    return out;
  }
}

const live = (expiresAt: number | null, now: number): boolean => expiresAt === null || now < expiresAt;

const actions: readonly string[] = ['move', 'ban', 'clear', 'standby', 'unstandby', 'unmanage', 'manage', 'maintenance', 'cleanup'];

/** The control in an event's attrs (it came from the log: checked, never cast). */
export function parseControl(attrs: Readonly<Record<string, unknown>>): ControlAttrs | undefined {
  const action = attrs['action'];
  if (typeof action !== 'string' || !actions.includes(action)) return undefined;
  const out: ControlAttrs = { action: action as ControlAction };
  if (typeof attrs['group'] === 'string') out.group = attrs['group'];
  if (typeof attrs['node'] === 'string') out.node = attrs['node'];
  if (typeof attrs['expiresAt'] === 'number') out.expiresAt = attrs['expiresAt'];
  if (typeof attrs['on'] === 'boolean') out.on = attrs['on'];
  return out;
}

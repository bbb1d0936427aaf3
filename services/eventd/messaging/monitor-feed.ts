// The live monitor (`eventctl monitor`, Serf's `serf monitor`): what happens
// on this node as it happens, for whoever watches. Membership changes, events
// recorded in the log (after commit), queries and the daemon's own log lines
// are published here; each watcher subscribes with a filter. Invariant:
// `publish` never blocks nor throws into its caller (a log call, a commit):
// a listener only queues (monitor-buffer.ts), and one that throws is dropped.

export const monitorKinds = ['member', 'event', 'query', 'log'] as const;
export type MonitorKind = (typeof monitorKinds)[number];

export const monitorLevels = ['debug', 'info', 'warn', 'error'] as const;
export type MonitorLevel = (typeof monitorLevels)[number];

export interface MonitorEntry {
  kind: MonitorKind;
  level: MonitorLevel;
  /** ISO 8601, when it happened here. */
  time: string;
  message: string;
  /** The resource class of an event or a membership change (Node, Cluster). */
  class?: string;
  /** The node it is about (a member, an event's node, a log line's daemon). */
  node?: string;
  data?: Record<string, unknown>;
}

export interface MonitorFilter {
  /** Entries at or above this level. */
  level: MonitorLevel;
  /** Only these kinds; absent: every kind. */
  kinds?: readonly MonitorKind[];
  /** An entry with a class passes only if it is one of these; entries without a class (log lines, queries) pass. Absent: every class. */
  classes?: readonly string[];
  /** Classes left out unless named in `classes` (the consumers' internal records, as in /v1/events). */
  hiddenClasses?: readonly string[];
}

export type MonitorListener = (entry: MonitorEntry) => void;

const rank: Record<MonitorLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function atLeast(level: MonitorLevel, floor: MonitorLevel): boolean {
  return rank[level] >= rank[floor];
}

export function isMonitorLevel(value: string): value is MonitorLevel {
  return (monitorLevels as readonly string[]).includes(value);
}

export function isMonitorKind(value: string): value is MonitorKind {
  return (monitorKinds as readonly string[]).includes(value);
}

export function matches(filter: MonitorFilter, entry: MonitorEntry): boolean {
  if (!atLeast(entry.level, filter.level)) return false;
  if (filter.kinds !== undefined && !filter.kinds.includes(entry.kind)) return false;
  if (entry.class === undefined) return true;
  if (filter.classes !== undefined) return filter.classes.includes(entry.class);
  return !(filter.hiddenClasses?.includes(entry.class) ?? false);
}

export class MonitorFeed {
  private readonly listeners = new Map<MonitorListener, MonitorFilter>();

  /** How many watchers are subscribed (the API's /metrics shows it). */
  get subscribers(): number {
    return this.listeners.size;
  }

  /** The lowest level any watcher wants; undefined with no watcher (publishers skip building entries then). */
  lowestLevel(): MonitorLevel | undefined {
    let lowest: MonitorLevel | undefined;
    for (const filter of this.listeners.values()) if (lowest === undefined || rank[filter.level] < rank[lowest]) lowest = filter.level;
    return lowest;
  }

  /** Whether an entry of this kind and level would reach anyone: lets a publisher skip the work of making it. */
  wanted(kind: MonitorKind, level: MonitorLevel): boolean {
    for (const filter of this.listeners.values()) {
      if (atLeast(level, filter.level) && (filter.kinds === undefined || filter.kinds.includes(kind))) return true;
    }
    return false;
  }

  publish(entry: MonitorEntry): void {
    for (const [listener, filter] of [...this.listeners]) {
      if (!matches(filter, entry)) continue;
      try {
        listener(entry);
      } catch {
        // A broken watcher must not break the publisher (a log call, a commit): it is dropped.
        this.listeners.delete(listener);
      }
    }
  }

  /** Returns the unsubscribe function; calling it twice is harmless. */
  subscribe(filter: MonitorFilter, listener: MonitorListener): () => void {
    // A listener object of its own: one function subscribed twice is two watchers.
    const own: MonitorListener = (entry) => listener(entry);
    this.listeners.set(own, filter);
    return () => {
      this.listeners.delete(own);
    };
  }
}

// Feeds the monitor from the daemon: committed events (the event feed, after
// commit: a watcher never sees what a rollback undid), tag changes, peers
// this node stopped hearing (suspect, before a majority declares them down),
// and the daemon's own log lines (a tap on its logger). Each source costs
// nothing while nobody watches: entries are made only if `wanted`.
import type { EventFeed, FeedItem } from '../event-feed.js';
import { tapLogger, type Logger } from '../logger.js';
import type { MonitorFeed } from './monitor-feed.js';
import { eventEntry, heardAgainEntry, levelOf, logEntry, suspectEntry, tagsEntry } from './monitor-entries.js';
import type { Tags } from './tags.js';

export interface MonitorSourcesOptions {
  monitor: MonitorFeed;
  feed: EventFeed;
  logger: Logger;
  /** Absent on a single node: no suspicion to watch. */
  cluster?: {
    view(): string[];
    silentForMs(peer: string): number;
    node: string;
    suspectAfterMs: number;
    heartbeatMs: number;
  };
}

export class MonitorSources {
  private readonly suspected = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private untap: (() => void) | undefined;
  private readonly onEvents = (items: FeedItem[]): void => {
    const { monitor } = this.options;
    if (monitor.subscribers === 0) return;
    for (const { event } of items) monitor.publish(eventEntry(event));
  };

  constructor(private readonly options: MonitorSourcesOptions) {}

  start(): void {
    const { monitor, feed, logger, cluster } = this.options;
    feed.on('events', this.onEvents);
    this.untap = tapLogger(logger, {
      wants: (levelValue) => monitor.wanted('log', levelOf(levelValue)),
      line: (line) => monitor.publish(logEntry(line)),
    });
    if (cluster) {
      this.timer = setInterval(() => this.watchSilences(), cluster.heartbeatMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.options.feed.off('events', this.onEvents);
    this.untap?.();
    clearInterval(this.timer);
  }

  /** A node's tags changed (its own, or a peer's as replicated). */
  tagsChanged(node: string, tags: Readonly<Tags>): void {
    if (this.options.monitor.wanted('member', 'info')) this.options.monitor.publish(tagsEntry(node, tags));
  }

  /** Peers of the view silent past suspectAfterMs: said once each, and once more when heard again. */
  private watchSilences(): void {
    const { cluster, monitor } = this.options;
    if (!cluster) return;
    const view = new Set(cluster.view());
    for (const peer of view) {
      if (peer === cluster.node) continue;
      const silentMs = cluster.silentForMs(peer);
      if (silentMs > cluster.suspectAfterMs && !this.suspected.has(peer)) {
        this.suspected.add(peer);
        if (monitor.wanted('member', 'warn')) monitor.publish(suspectEntry(peer, silentMs));
      } else if (silentMs <= cluster.suspectAfterMs && this.suspected.delete(peer)) {
        if (monitor.wanted('member', 'info')) monitor.publish(heardAgainEntry(peer));
      }
    }
    // Out of the view: its down entry said the rest; a return starts afresh.
    for (const peer of this.suspected) if (!view.has(peer)) this.suspected.delete(peer);
  }
}

// The consumer host: starts the consumer plugins whose config key is present,
// with the settings the config loader made of their sections. The daemon
// knows consumers only through this host, never by name (DESIGN.md).
import type { Registry } from 'prom-client';
import type { EventFeed, FeedItem } from '../event-feed.js';
import type { FatalHandler } from '../fatal.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { ConsumerContext, ConsumerPlugin, ConsumerRoutes, RunningConsumer } from './contract.js';

export interface ConsumerHostOptions {
  node: string;
  /** This node is a witness (ConsumerContext.witness); false when absent. */
  witness?: boolean;
  /** Every consumer plugin found (loadConsumerPlugins). */
  plugins: readonly ConsumerPlugin[];
  /** Per config key, the settings of a consumer that is on (Config.consumers). */
  settings: Readonly<Record<string, unknown>>;
  store: Store;
  feed: EventFeed;
  logger: Logger;
  registry: Registry;
  /** Where the consumers' routes go: the API, built before they start, finds them there per request. */
  routes: ConsumerRoutes;
  /** What the daemon lends consumers beyond the log: raising events, the cluster view. */
  services: Pick<ConsumerContext, 'raise' | 'cluster' | 'ensureSubscription'>;
  /** A consumer's cursor could not be written: stop the daemon (fail-stop). */
  fatal: FatalHandler;
}

/** How long stop() gives one consumer before going on without it. */
export const consumerStopGraceMs = 5000;
/** How long drain() gives the consumers (the failover groups' stop scripts) before the daemon stops anyway. */
export const consumerDrainGraceMs = 60_000;

interface Started {
  name: string;
  running: RunningConsumer;
  /** Set once stopped: the context then reads nothing and saves nothing (the store is about to close). */
  gate: { closed: boolean };
}

export class ConsumerHost {
  private readonly started: Started[] = [];
  /** Per consumer name: every event after this position is kept from pruning. */
  private readonly holds = new Map<string, number>();
  /** Classes of the running consumers' internal records. */
  readonly internalClasses: string[] = [];

  constructor(private readonly options: ConsumerHostOptions) {}

  /** Loads and starts the configured consumers; one that fails is logged and left out, the rest go on. */
  async start(): Promise<void> {
    const { logger, settings } = this.options;
    for (const plugin of this.options.plugins) {
      const section = settings[plugin.configKey];
      if (section === undefined) {
        logger.debug({ consumer: plugin.name, configKey: plugin.configKey }, `consumer ${plugin.name} off (no ${plugin.configKey} in config)`);
        continue;
      }
      const gate = { closed: false };
      try {
        const running = await plugin.start(this.context(plugin, section, gate));
        this.started.push({ name: plugin.name, running, gate });
        this.internalClasses.push(...(plugin.internalClasses ?? []));
        logger.info({ consumer: plugin.name }, `consumer ${plugin.name} started`);
      } catch (error) {
        gate.closed = true;
        this.holds.delete(plugin.name);
        logger.error({ consumer: plugin.name, err: error }, `consumer ${plugin.name} failed to start: ${(error as Error).message}`);
      }
    }
  }

  /** The lowest position a running consumer still needs, or undefined when none holds any. */
  retentionFloor(): number | undefined {
    let floor: number | undefined;
    for (const pos of this.holds.values()) floor = floor === undefined ? pos : Math.min(floor, pos);
    return floor;
  }

  /** Lets each consumer wind down while the cluster and the log still run (RunningConsumer.drain), bounded by consumerDrainGraceMs. */
  async drain(): Promise<void> {
    await Promise.all(this.started.map(async ({ name, running }) => {
      if (!running.drain) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), consumerDrainGraceMs)));
      try {
        const outcome = await Promise.race([running.drain().then(() => 'drained' as const), timeout]);
        if (outcome === 'timeout') this.options.logger.warn({ consumer: name }, `consumer ${name} did not drain within ${consumerDrainGraceMs} ms`);
      } catch (error) {
        this.options.logger.error({ consumer: name, err: error }, `consumer ${name} did not drain cleanly`);
      } finally {
        clearTimeout(timer);
      }
    }));
  }

  /** Stops consumers in reverse start order, each bounded by consumerStopGraceMs. */
  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const { name, running, gate } = this.started.pop() as Started;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), consumerStopGraceMs)));
      try {
        const outcome = await Promise.race([running.stop().then(() => 'stopped' as const), timeout]);
        if (outcome === 'timeout') this.options.logger.warn({ consumer: name }, `consumer ${name} did not stop within ${consumerStopGraceMs} ms; left behind`);
      } catch (error) {
        this.options.logger.error({ consumer: name, err: error }, `consumer ${name} did not stop cleanly`);
      } finally {
        clearTimeout(timer);
        gate.closed = true;
        this.holds.delete(name);
      }
    }
  }

  private context(plugin: ConsumerPlugin, section: unknown, gate: { closed: boolean }): ConsumerContext {
    const { store, feed, node, registry } = this.options;
    const name = plugin.name;
    return {
      ...this.options.services,
      node,
      witness: this.options.witness ?? false,
      config: section,
      routes: this.options.routes,
      logger: this.options.logger.child({ component: 'consumer', consumer: name }),
      registry,
      events: {
        after: (afterPos, limit) => (gate.closed ? [] : store.events.listAfter(afterPos, { limit })),
        lastPos: () => (gate.closed ? 0 : store.events.lastPos()),
        find: (id) => {
          if (gate.closed) return undefined;
          const pos = store.events.positionOf(id);
          const event = pos === undefined ? undefined : store.events.get(id);
          return pos === undefined || event === undefined ? undefined : { pos, event };
        },
        backlog: (afterPos) => (gate.closed ? { count: 0, oldestTime: undefined } : store.events.backlog(afterPos)),
      },
      cursor: {
        saved: () => {
          if (gate.closed) return undefined;
          const pos = store.consumerCursors.get(name);
          if (pos !== undefined && !this.holds.has(name)) this.holds.set(name, pos);
          return pos;
        },
        save: (pos) => {
          if (gate.closed) return;
          try {
            store.consumerCursors.save(name, pos, Date.now());
          } catch (error) {
            // Saved from a consumer's timer: thrown on, it would end the process as an uncaught exception, unexplained.
            this.options.fatal(error, `saving consumer ${name}'s cursor`);
            throw error;
          }
          this.holds.set(name, pos);
        },
      },
      thresholdStates: () =>
        (gate.closed ? [] : store.thresholdStates.all()).map(({ key, state }) => ({
          ...key,
          state: state.state,
          ...(state.lastEvent === undefined ? {} : { lastEvent: state.lastEvent }),
        })),
      onEvents: (listener: (items: FeedItem[]) => void) => {
        feed.on('events', listener);
        return () => void feed.off('events', listener);
      },
    };
  }
}

// The MQTT bridge: publishes the event log, in delivery order, from a durable
// cursor. The events table is the outbox (see README.md, "Delivery"): the
// cursor moves only over events whose publishes the broker acknowledged, and
// the host's retention hold keeps pruning off every event after it. Nothing
// is copied: the event is already durable in the transaction that made it.
import type { MqttClient } from 'mqtt';
import { Counter, Gauge } from 'prom-client';
import type { MqttConfig } from './settings.js';
import type { ConsumerContext, FeedItem } from '../../services/eventd/sdk/index.js';
import { BrokerConnection } from './connection.js';
import { eventTopic, stateAfter, stateTopic, statusTopic, type StatePayload } from './topics.js';
import { InflightWindow, type WindowEntry } from './window.js';

export const bridgeLimits = {
  /** Events handed to the broker and not yet acknowledged, at most (each is two publishes). */
  maxInFlight: 64,
  /** Cursor writes are coalesced: at most one per this interval (a kill -9 republishes at most that much). */
  saveEveryMs: 50,
  /** On stop: how long to wait for in-flight acknowledgements, then for the "offline" status. */
  stopWaitMs: 1000,
} as const;

interface SnapshotMessage {
  topic: string;
  payload: string;
}

export class MqttBridge {
  private readonly connection: BrokerConnection;
  private readonly window: InflightWindow;
  private readonly metrics;
  private readonly prefix: string;
  /** Retained states as of the acknowledged position, sent at each connection before any event. */
  private snapshot: SnapshotMessage[] = [];
  private snapshotSent = 0;
  private client: MqttClient | undefined;
  /** Bumped per connection: acknowledgements from an older connection are ignored. */
  private generation = 0;
  private pumpScheduled = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private savedPos: number | undefined;
  private stopping = false;
  private unsubscribe: () => void = () => {};
  private drained: (() => void) | undefined;

  constructor(private readonly ctx: ConsumerContext<MqttConfig>) {
    const { config, node, events, cursor } = ctx;
    this.prefix = config.topicPrefix;
    // The first run starts at the end of the log (the history is not replayed;
    // the retained states tell where things stand), and saves that at once.
    const saved = cursor.saved();
    const base = saved ?? events.lastPos();
    if (saved === undefined) cursor.save(base);
    this.savedPos = base;
    this.window = new InflightWindow(base);
    this.metrics = createMetrics(ctx, () => this.window.acked);
    this.connection = new BrokerConnection({
      config,
      clientId: `eventd-${node}`,
      will: { topic: statusTopic(this.prefix, node), payload: 'offline' },
      logger: ctx.logger,
      onUp: (client) => this.up(client),
      onDown: () => this.down(),
      onError: () => this.metrics.connectionErrors.inc(),
    });
  }

  start(): void {
    this.unsubscribe = this.ctx.onEvents((items: FeedItem[]) => {
      if (items.length > 0) this.schedulePump();
    });
    const { count } = this.ctx.events.backlog(this.window.acked);
    this.ctx.logger.info({ queued: count }, `mqtt: bridge started, ${count} events queued`);
    this.connection.start();
  }

  /** Waits (bounded) for in-flight publishes, says "offline", saves the cursor and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe();
    const client = this.connection.stop();
    if (client) {
      if (this.window.size > 0) await within(bridgeLimits.stopWaitMs, new Promise<void>((resolve) => (this.drained = resolve)));
      await within(bridgeLimits.stopWaitMs, this.publish(client, statusTopic(this.prefix, this.ctx.node), 'offline', true));
    }
    clearTimeout(this.saveTimer);
    this.save();
    if (client) {
      const closed = await within(bridgeLimits.stopWaitMs, client.endAsync().then(() => true));
      if (closed !== true) client.end(true);
    }
  }

  private up(client: MqttClient): void {
    this.client = client;
    this.generation++;
    this.metrics.connected.set(1);
    this.window.rewind();
    this.snapshot = this.settledStates();
    this.snapshotSent = 0;
    void this.publish(client, statusTopic(this.prefix, this.ctx.node), 'online', true).catch(() => {});
    this.pump();
  }

  private down(): void {
    this.client = undefined;
    this.metrics.connected.set(0);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the window: snapshot first, then events in position order. Bounded reads, never waits. */
  private pump(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    const generation = this.generation;
    while (this.window.size < bridgeLimits.maxInFlight) {
      if (this.snapshotSent < this.snapshot.length) {
        const message = this.snapshot[this.snapshotSent++] as SnapshotMessage;
        const entry = this.window.take('snapshot', this.window.acked, 1);
        this.send(client, generation, entry, message.topic, message.payload, true);
        continue;
      }
      const items = this.ctx.events.after(this.window.readPos, bridgeLimits.maxInFlight - this.window.size);
      if (items.length === 0) break;
      for (const { pos, event } of items) {
        const entry = this.window.take('event', pos, 2);
        this.send(client, generation, entry, eventTopic(this.prefix, event), JSON.stringify(event), false);
        this.send(client, generation, entry, stateTopic(this.prefix, event), JSON.stringify(stateAfter(event)), true);
      }
    }
  }

  private send(client: MqttClient, generation: number, entry: WindowEntry, topic: string, payload: string, retain: boolean): void {
    this.publish(client, topic, payload, retain).then(
      () => this.acked(generation, entry),
      () => {}, // the connection went; up() rewinds to the acknowledged position
    );
  }

  private acked(generation: number, entry: WindowEntry): void {
    if (generation !== this.generation) return;
    const moved = this.window.ack(entry);
    if (entry.pending === 0 && entry.kind === 'event') this.metrics.published.inc();
    if (moved) this.scheduleSave();
    if (this.window.size === 0) this.drained?.();
    this.schedulePump();
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, bridgeLimits.saveEveryMs);
  }

  /** Persists the acknowledged position. */
  private save(): void {
    if (this.savedPos === this.window.acked) return;
    this.ctx.cursor.save(this.window.acked);
    this.savedPos = this.window.acked;
  }

  private publish(client: MqttClient, topic: string, payload: string, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: this.ctx.config.qos, retain }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /**
   * The retained state of every (subscription, node, resource) whose last
   * event is already acknowledged: re-sent at each connection so a broker that
   * lost its retained messages gets them back. States whose last event is
   * still queued are left to that event, so a retained state never goes back.
   */
  private settledStates(): SnapshotMessage[] {
    const messages: SnapshotMessage[] = [];
    for (const state of this.ctx.thresholdStates()) {
      if (state.lastEvent === undefined) continue; // never fired: nothing to tell yet
      const found = this.ctx.events.find(state.lastEvent);
      // Not in the log any more: pruned long after it was published and retained.
      if (found === undefined || found.pos > this.window.acked) continue;
      const payload: StatePayload = { subscription: state.subscription, node: state.node, resource: state.resource, state: state.state, event: found.event };
      messages.push({ topic: stateTopic(this.prefix, state), payload: JSON.stringify(payload) });
    }
    return messages;
  }
}

/** The bridge's metrics, registered in the daemon's registry; the outbox gauges are read at scrape time. */
function createMetrics(ctx: ConsumerContext<MqttConfig>, acked: () => number) {
  const registers = [ctx.registry];
  const backlog = () => ctx.events.backlog(acked());
  return {
    published: new Counter({ name: 'eventd_mqtt_published_total', help: 'Events published to the MQTT broker and acknowledged by it', registers }),
    connectionErrors: new Counter({ name: 'eventd_mqtt_connection_errors_total', help: 'MQTT connection attempts that failed and connections lost', registers }),
    connected: new Gauge({ name: 'eventd_mqtt_connected', help: '1 while connected to the MQTT broker', registers }),
    queued: new Gauge({
      name: 'eventd_mqtt_queued',
      help: 'Events committed but not yet acknowledged by the MQTT broker (the outbox)',
      registers,
      collect() {
        this.set(backlog().count);
      },
    }),
    oldestQueuedAge: new Gauge({
      name: 'eventd_mqtt_oldest_queued_age_seconds',
      help: 'Age of the oldest event not yet acknowledged by the MQTT broker; 0 when none',
      registers,
      collect() {
        const { oldestTime } = backlog();
        this.set(oldestTime === undefined ? 0 : Math.max(0, (Date.now() - oldestTime) / 1000));
      },
    }),
  };
}

/** Resolves to the promise's value, or to undefined once `ms` have passed. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

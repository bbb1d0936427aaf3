// The MQTT bridge in process: the consumer host over a real SQLite store and
// aedes on loopback, events appended to the log directly. Order past the
// in-flight window, the retention hold, retained states re-sent to a broker
// that lost them, topic levels, and the clean stop.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { topicLevel } from '../consumers/mqtt/topics.js';
import { loadConfig } from '../services/eventd/config-load.js';
import { loadConsumerPlugins } from '../services/eventd/consumers/load.js';
import { ConsumerHost } from '../services/eventd/consumers/host.js';
import { EventFeed } from '../services/eventd/event-feed.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinConsumersDir } from '../services/eventd/paths.js';
import { Store } from '../services/eventd/store/index.js';
import type { EventRecord, EventType } from '../services/eventd/types.js';
import { AedesBroker, MqttRecorder } from './helpers/mqtt-broker.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import type { Hooks } from './helpers/cleanup.js';

/** A store, a feed and the consumer host with `mqtt` pointed at `url`. */
async function bridgeUnderTest(t: Hooks, dataDir: string, url: string) {
  const config = await loadConfig({ node: 'n1', dataDir, mqtt: { url } });
  const store = Store.open(dataDir);
  const feed = new EventFeed();
  const metrics = createMetrics();
  const host = new ConsumerHost({
    node: 'n1', plugins: await loadConsumerPlugins(builtinConsumersDir), settings: config.consumers, store, feed, logger: silentLogger(), registry: metrics.registry,
    routes: { add: () => assert.fail('the MQTT bridge adds no route') },
    services: { raise: () => assert.fail('the MQTT bridge raises no event'), ensureSubscription: () => assert.fail('the MQTT bridge makes no subscription') },
    fatal: (error, what) => assert.fail(`fatal: ${what}: ${String(error)}`),
  });
  await host.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await host.stop();
    store.close();
  };
  defer(t, stop);
  /** Commits events as the evaluator does (event, threshold state, one transaction) and announces them. */
  const raise = (items: { type: EventType; resource: string; percent: number }[]) => {
    const written = store.transaction(() => items.map(({ type, resource, percent }) => {
      const seq = store.events.takeSeq('n1');
      const event: EventRecord = {
        id: `n1:${seq}`, origin: 'n1', seq, hlc: `${Date.now()}:0`, type, subscription: 'sub1', subscriptionName: 'swap-high',
        class: 'PagingSpace', resource, node: 'n1', expr: 'percentUsed > 75', attrs: { percentUsed: percent }, time: new Date().toISOString(),
      };
      const pos = store.events.append(event);
      store.thresholdStates.save({ subscription: 'sub1', node: 'n1', resource }, { state: type === 'event' ? 'fired' : 'armed', lastEvent: event.id });
      return { pos, event };
    }));
    feed.publish(written);
    return written;
  };
  const metric = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
  return { store, host, raise, metric, stop };
}

const alternating = (count: number, resource = 'total') =>
  Array.from({ length: count }, (_, i) => ({ type: (i % 2 === 0 ? 'event' : 'rearm') as EventType, resource, percent: i }));

test('events arrive in delivery order past the in-flight window; the cursor follows the acknowledgements', async (t) => {
  const broker = await AedesBroker.start();
  defer(t, () => broker.close());
  const watcher = await MqttRecorder.connect(broker.url, 'eventd/events/#');
  defer(t, () => watcher.close());
  const bridge = await bridgeUnderTest(t, tempDir(t), broker.url);

  const written = [...bridge.raise(alternating(150)), ...bridge.raise(alternating(150))];
  await waitFor('300 events over MQTT', () => watcher.messages.length >= 300);
  assert.deepEqual(watcher.messages.map((m) => (JSON.parse(m.payload) as EventRecord).id), written.map((w) => w.event.id));
  assert.ok(watcher.messages.every((m) => m.topic === 'eventd/events/PagingSpace/n1/sub1'));
  await waitFor('the cursor saved at the last event', () => bridge.store.consumerCursors.get('mqtt') === written.at(-1)?.pos);
  assert.equal(await bridge.metric('eventd_mqtt_published_total'), 300);
  assert.equal(await bridge.metric('eventd_mqtt_queued'), 0);
  assert.equal(await bridge.metric('eventd_mqtt_oldest_queued_age_seconds'), 0);
});

test('retention hold: pruning keeps every event the broker has not acknowledged, and frees them once it has', async (t) => {
  const broker = await AedesBroker.start();
  defer(t, () => broker.close());
  const watcher = await MqttRecorder.connect(broker.url, 'eventd/events/#', { clean: false, clientId: 'watcher' });
  defer(t, () => watcher.close());
  const bridge = await bridgeUnderTest(t, tempDir(t), broker.url);
  await waitFor('connected', async () => (await bridge.metric('eventd_mqtt_connected')) === 1);

  await broker.stop();
  await waitFor('disconnected', async () => (await bridge.metric('eventd_mqtt_connected')) === 0);
  const written = bridge.raise(alternating(250));
  const floor = bridge.host.retentionFloor();
  assert.equal(floor, written[0]!.pos - 1);
  // maxCount 100 would drop 150 of them; the hold keeps all 250.
  assert.equal(bridge.store.events.prune(100, 60_000, Date.now(), floor), 0);
  assert.equal(await bridge.metric('eventd_mqtt_queued'), 250);

  await broker.restart();
  await waitFor('all 250 over MQTT after the outage', () => new Set(watcher.messages.map((m) => m.payload)).size === 250, 20_000);
  await waitFor('the hold moved past them', () => bridge.host.retentionFloor() === written.at(-1)?.pos);
  assert.equal(bridge.store.events.prune(100, 60_000, Date.now(), bridge.host.retentionFloor()), 150);
});

test('a restarted bridge re-sends the retained states a broker lost, and a clean stop says "offline"', async (t) => {
  const dataDir = tempDir(t);
  const first = await AedesBroker.start();
  defer(t, () => first.close());
  const bridge = await bridgeUnderTest(t, dataDir, first.url);
  bridge.raise([{ type: 'event', resource: 'total', percent: 90 }, { type: 'event', resource: '/dev/sda2', percent: 91 }]);
  await waitFor('published', async () => (await bridge.metric('eventd_mqtt_published_total')) === 2);
  await bridge.stop();

  // A new broker with no retained messages at all: the next start fills it in.
  const second = await AedesBroker.start();
  defer(t, () => second.close());
  const again = await bridgeUnderTest(t, dataDir, second.url);
  const late = await MqttRecorder.connect(second.url, 'eventd/#');
  defer(t, () => late.close());
  const device = await late.waitFor('retained state of /dev/sda2', (m) => m.topic === 'eventd/state/sub1/n1/%2Fdev%2Fsda2');
  assert.equal(device.retain, true);
  assert.deepEqual((JSON.parse(device.payload) as { state: string; event: EventRecord }).state, 'fired');
  await late.waitFor('status online', (m) => m.topic === 'eventd/nodes/n1/status' && m.payload === 'online');
  assert.equal(await again.metric('eventd_mqtt_published_total'), 0, 'no event was published twice');

  await again.stop();
  await late.waitFor('status offline on a clean stop', (m) => m.topic === 'eventd/nodes/n1/status' && m.payload === 'offline');
});

test('topic levels: names holding /, +, # or % are URI-component encoded; others are left as they are', () => {
  assert.equal(topicLevel('total'), 'total');
  assert.equal(topicLevel('10.1.2.3'), '10.1.2.3');
  assert.equal(topicLevel('my disk'), 'my disk');
  assert.equal(topicLevel('/dev/sda2'), '%2Fdev%2Fsda2');
  assert.equal(topicLevel('a+b#c'), 'a%2Bb%23c');
  assert.equal(topicLevel('50%'), '50%25');
  for (const name of ['total', '/dev/sda2', 'a+b#c', '50%', 'my disk']) assert.equal(decodeURIComponent(topicLevel(name)), name);
});

// The MQTT bridge end to end: a real daemon process, aedes in the test
// process on loopback, paging space pushed across its threshold by a recorded
// proc root.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { AedesBroker, MqttRecorder } from './helpers/mqtt-broker.js';
import { freshSamples, metric, mqttDaemon, setSwap, subscribeSwapHigh, waitForEvents } from './helpers/mqtt-daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

test('an event reaches its exact topic; state and node status are retained for late clients; kill -9 leaves "offline" by last will', async (t) => {
  const dir = tempDir(t);
  const broker = await AedesBroker.start();
  defer(t, () => broker.close());
  const watcher = await MqttRecorder.connect(broker.url, 'eventd/#');
  defer(t, () => watcher.close());
  const { daemon, procRoot } = mqttDaemon(dir, { url: broker.url });
  defer(t, () => daemon.kill9());
  await daemon.start();

  await watcher.waitFor('node status online', (m) => m.topic === 'eventd/nodes/n1/status' && m.payload === 'online');
  const id = await subscribeSwapHigh(daemon, null); // both resources: total and /dev/sda2
  await freshSamples(daemon);
  setSwap(procRoot, 80);
  const logged = await waitForEvents(daemon, 2);

  // Every event, as its JSON, on <prefix>/events/<class>/<node>/<subscription id>.
  const topic = `eventd/events/PagingSpace/n1/${id}`;
  await waitFor('both events over MQTT', () => watcher.messages.filter((m) => m.topic === topic).length === 2);
  const received = watcher.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as unknown);
  assert.deepEqual(received, logged);

  // A client connecting now sees where things stand at once: retained state and status.
  const late = await MqttRecorder.connect(broker.url, 'eventd/#');
  defer(t, () => late.close());
  const total = await late.waitFor('retained state of total', (m) => m.topic === `eventd/state/${id}/n1/total`);
  assert.equal(total.retain, true);
  const totalEvent = logged.find((e) => e.resource === 'total');
  assert.deepEqual(JSON.parse(total.payload), { subscription: id, node: 'n1', resource: 'total', state: 'fired', event: totalEvent });
  // A resource name holding "/" is one topic level, URI-component encoded.
  const device = await late.waitFor('retained state of /dev/sda2', (m) => m.topic === `eventd/state/${id}/n1/%2Fdev%2Fsda2`);
  assert.equal((JSON.parse(device.payload) as { state: string }).state, 'fired');
  const status = await late.waitFor('retained status', (m) => m.topic === 'eventd/nodes/n1/status');
  assert.deepEqual([status.payload, status.retain], ['online', true]);
  assert.equal(late.messages.some((m) => m.topic.startsWith('eventd/events/')), false, 'events are not retained');

  await waitFor('published metric', async () => (await metric(daemon, 'eventd_mqtt_published_total')) === 2);
  assert.equal(await metric(daemon, 'eventd_mqtt_queued'), 0);
  assert.equal(await metric(daemon, 'eventd_mqtt_connected'), 1);

  // A rearm moves the retained state back to armed.
  setSwap(procRoot, 50);
  await waitForEvents(daemon, 4);
  await late.waitFor('state armed', (m) => m.topic === `eventd/state/${id}/n1/total` && (JSON.parse(m.payload) as { state: string }).state === 'armed');

  // kill -9: no shutdown code runs; the broker publishes the last will.
  await daemon.kill9();
  await watcher.waitFor('offline by last will', (m) => m.topic === 'eventd/nodes/n1/status' && m.payload === 'offline');
  const after = await MqttRecorder.connect(broker.url, 'eventd/nodes/#');
  defer(t, () => after.close());
  const retained = await after.waitFor('retained offline', (m) => m.topic === 'eventd/nodes/n1/status');
  assert.deepEqual([retained.payload, retained.retain], ['offline', true]);
});

// The outbox across a broker outage: events raised while the broker is away
// wait in the event log and arrive, in order, once it is back, even when the
// daemon is killed with -9 in the meantime.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import type { EventRecord } from '../services/eventd/types.js';
import { AedesBroker, MqttRecorder } from './helpers/mqtt-broker.js';
import { freshSamples, metric, mqttDaemon, setSwap, subscribeSwapHigh, waitForEvents } from './helpers/mqtt-daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

test('broker outage: a rearm and an event raised while it is down, and a kill -9 in between, arrive in order once it is back', async (t) => {
  const dir = tempDir(t);
  const broker = await AedesBroker.start();
  defer(t, () => broker.close());
  // A persistent session: the broker keeps what it could not deliver while the subscriber was cut off too.
  const watcher = await MqttRecorder.connect(broker.url, 'eventd/events/#', { clean: false, clientId: 'watcher' });
  defer(t, () => watcher.close());
  const { daemon, procRoot } = mqttDaemon(dir, { url: broker.url });
  defer(t, () => daemon.kill9());
  await daemon.start();
  await subscribeSwapHigh(daemon);
  await freshSamples(daemon);

  setSwap(procRoot, 80);
  const [first] = await waitForEvents(daemon, 1);
  await watcher.waitFor('the event over MQTT', (m) => (JSON.parse(m.payload) as EventRecord).id === first?.id);

  // The broker goes away; the daemon goes on evaluating and keeps the rearm in its outbox.
  await broker.stop();
  setSwap(procRoot, 50);
  await waitForEvents(daemon, 2);
  await waitFor('one event queued', async () => (await metric(daemon, 'eventd_mqtt_queued')) === 1);
  assert.ok(((await metric(daemon, 'eventd_mqtt_connection_errors_total')) ?? 0) >= 1);
  assert.equal(await metric(daemon, 'eventd_mqtt_connected'), 0);

  // kill -9 while the broker is still down: the queued rearm is in SQLite, not in memory.
  // (1, or 2 if the kill beat the coalesced cursor write: then the first event goes again, at least once.)
  await daemon.kill9();
  await daemon.start();
  assert.equal((await daemon.request('GET', '/healthz')).status, 200);
  const queued = (await metric(daemon, 'eventd_mqtt_queued')) ?? 0;
  assert.ok(queued === 1 || queued === 2, `queued ${queued}`);
  setSwap(procRoot, 85);
  const logged = await waitForEvents(daemon, 3);
  await waitFor('one more event queued', async () => (await metric(daemon, 'eventd_mqtt_queued')) === queued + 1);
  assert.ok(((await metric(daemon, 'eventd_mqtt_oldest_queued_age_seconds')) ?? 0) > 0);

  // The broker comes back on the same port: both arrive, in delivery order, after the first.
  await broker.restart();
  await waitFor('all three events over MQTT', () => distinctIds(watcher).length === 3, 20_000);
  assert.deepEqual(distinctIds(watcher), logged.map((e) => e.id));
  assert.deepEqual(logged.map((e) => e.type), ['event', 'rearm', 'event']);
  await waitFor('the outbox drained', async () => (await metric(daemon, 'eventd_mqtt_queued')) === 0);
});

/** Event ids in order of first arrival (QoS 1 is at least once: a repeat is possible, a reorder is not). */
function distinctIds(recorder: MqttRecorder): string[] {
  const ids: string[] = [];
  for (const message of recorder.messages) {
    const { id } = JSON.parse(message.payload) as EventRecord;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

// Bad MQTT configuration: a malformed section is refused at start naming the
// key; a broker that cannot be reached is a log line and a metric while the
// daemon goes on serving.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { promisify } from 'node:util';
import { loadConfig } from '../services/eventd/config-load.js';
import { packageRoot } from '../services/eventd/paths.js';
import { freePort } from './helpers/mqtt-broker.js';
import { freshSamples, metric, mqttDaemon, setSwap, subscribeSwapHigh, waitForEvents } from './helpers/mqtt-daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const badConfig = (raw: unknown, pattern: RegExp) =>
  assert.rejects(loadConfig(raw), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
    assert.match(error.message ?? '', pattern);
    return true;
  });

test('mqtt config: absent is off; defaults in one place; TLS files resolve against the config folder', async () => {
  assert.equal((await loadConfig({})).consumers['mqtt'], undefined);
  const config = await loadConfig({ mqtt: { url: 'mqtt://127.0.0.1:1883' } });
  assert.deepEqual(config.consumers['mqtt'], { url: 'mqtt://127.0.0.1:1883', topicPrefix: 'eventd', qos: 1 });
  assert.ok(Object.isFrozen(config.consumers['mqtt']));
  const tls = (await loadConfig(
    { mqtt: { url: 'mqtts://broker.example:8883', username: 'u', password: 'p', ca: 'tls/ca.pem', cert: '/abs/c.pem', key: 'k.pem', topicPrefix: 'site1/eventd', qos: 2 } },
    {},
    '/etc/eventd',
  )).consumers['mqtt'];
  assert.deepEqual(tls, {
    url: 'mqtts://broker.example:8883', username: 'u', password: 'p',
    ca: '/etc/eventd/tls/ca.pem', cert: '/abs/c.pem', key: '/etc/eventd/k.pem', topicPrefix: 'site1/eventd', qos: 2,
  });
  for (const url of ['mqtt://h', 'mqtts://h:8883', 'ws://h:8080/mqtt', 'wss://user:pw@h/mqtt']) assert.equal(((await loadConfig({ mqtt: { url } })).consumers['mqtt'] as { url: string }).url, url);
});

test('mqtt config: bad values are refused naming the key', async () => {
  await badConfig({ mqtt: { url: 'http://broker:1883' } }, /mqtt\.url: must match pattern/);
  await badConfig({ mqtt: { url: 'broker:1883' } }, /mqtt\.url/);
  await badConfig({ mqtt: { url: 'mqtt://broker:99999' } }, /mqtt\.url: "mqtt:\/\/broker:99999" is not a valid broker URL/);
  await badConfig({ mqtt: { url: 'mqtt://u:secret@broker:99999' } }, /mqtt:\/\/u:\*\*\*@broker/);
  await badConfig({ mqtt: {} }, /mqtt: must have required property 'url'/);
  await badConfig({ mqtt: { url: 'mqtt://h', topic: 'x' } }, /mqtt\.topic: unknown key/);
  await badConfig({ mqtt: { url: 'mqtt://h', qos: 3 } }, /mqtt\.qos: must be one of 0, 1, 2/);
  await badConfig({ mqtt: { url: 'mqtt://h', topicPrefix: 'a/#' } }, /mqtt\.topicPrefix/);
  await badConfig({ mqtt: { url: 'mqtt://h', topicPrefix: 'a//b' } }, /mqtt\.topicPrefix/);
  await badConfig({ mqtt: { url: 'mqtt://h', topicPrefix: '$SYS' } }, /mqtt\.topicPrefix/);
  await badConfig({ mqtt: { url: 'mqtt://h', cert: 'c.pem' } }, /mqtt: must have property key when property cert is present/);
});

test('a bad mqtt.url stops the daemon at start with the key named', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'eventd.json');
  writeFileSync(file, JSON.stringify({ node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, mqtt: { url: 'tcp://127.0.0.1:1883' } }));
  const run = promisify(execFile)(process.execPath, [join(packageRoot, 'bin', 'eventd'), '--config', file]);
  await assert.rejects(run, (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /mqtt\.url/);
    return true;
  });
});

test('an unreachable broker is a clear log line and a metric; the daemon keeps serving and keeps the events', async (t) => {
  const dir = tempDir(t);
  const port = await freePort(); // nothing listens there
  const { daemon, procRoot } = mqttDaemon(dir, { url: `mqtt://127.0.0.1:${port}` });
  defer(t, () => daemon.kill9());
  await daemon.start();
  await waitFor('the connection error logged', () => new RegExp(`mqtt: cannot connect to mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`).test(daemon.log));
  await waitFor('the connection error counted', async () => ((await metric(daemon, 'eventd_mqtt_connection_errors_total')) ?? 0) >= 1);
  assert.equal((await daemon.request('GET', '/healthz')).status, 200);

  // Evaluation is not held up by the broker: the event is committed and waits in the outbox.
  await subscribeSwapHigh(daemon);
  await freshSamples(daemon);
  setSwap(procRoot, 90);
  await waitForEvents(daemon, 1);
  await waitFor('one event queued', async () => (await metric(daemon, 'eventd_mqtt_queued')) === 1);
  assert.equal(await metric(daemon, 'eventd_mqtt_connected'), 0);
  // Repeats of the same failure are not logged again at warn level.
  const warnings = daemon.log.split('\n').filter((line) => line.includes('mqtt: cannot connect')).length;
  assert.equal(warnings, 1, daemon.log);
  assert.ok(((await metric(daemon, 'eventd_mqtt_connection_errors_total')) ?? 0) >= 2);
  await daemon.stop();
});

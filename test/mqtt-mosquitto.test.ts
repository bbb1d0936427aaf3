// Interop with Debian's mosquitto, as a user would try it: mosquitto_sub on
// a persistent session sees the event; the broker stops, a rearm happens, the
// broker comes back, and the rearm reaches mosquitto_sub.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { exitOf } from './helpers/daemon.js';
import { test } from './helpers/node-test.js';
import { freePort, MosquittoProcess } from './helpers/mqtt-broker.js';
import { freshSamples, metric, mqttDaemon, setSwap, subscribeSwapHigh, waitForEvents } from './helpers/mqtt-daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const installed = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

test('mosquitto_sub on a persistent session gets the event, and the rearm raised while mosquitto was down', async (t) => {
  if (!installed('mosquitto') || !installed('mosquitto_sub')) {
    t.skip('mosquitto is not installed (apt-get install mosquitto mosquitto-clients; .ci/run does)');
    return;
  }
  const dir = tempDir(t);
  const port = await freePort();
  const broker = new MosquittoProcess(dir, port);
  defer(t, () => broker.stop());
  await broker.start();

  // The README's line, plus a client id and QoS 1 so mosquitto keeps the session while it is away.
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'eventd/#', '-v', '-c', '-i', 'sub1', '-q', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  defer(t, async () => {
    if (sub.exitCode === null && sub.signalCode === null) {
      sub.kill('SIGTERM');
      if (!(await exitOf(sub, 5_000))) sub.kill('SIGKILL');
    }
  });
  let lines = '';
  sub.stdout.on('data', (chunk: Buffer) => (lines += chunk.toString()));
  sub.stderr.on('data', (chunk: Buffer) => (lines += chunk.toString()));
  await waitFor('mosquitto_sub to connect', () => broker.output.includes(' as sub1 '));

  const { daemon, procRoot } = mqttDaemon(dir, { url: `mqtt://127.0.0.1:${port}` });
  defer(t, () => daemon.kill9());
  await daemon.start();
  const id = await subscribeSwapHigh(daemon);
  await freshSamples(daemon);
  setSwap(procRoot, 80);
  const [event] = await waitForEvents(daemon, 1);
  const received = (eventId: string) => lines.split('\n').find((line) => line.startsWith(`eventd/events/PagingSpace/n1/${id} `) && line.includes(`"id":"${eventId}"`));
  const line = await waitFor('mosquitto_sub to print the event', () => received(event!.id));
  assert.deepEqual(JSON.parse(line.slice(line.indexOf(' ') + 1)), event);
  assert.match(lines, /^eventd\/nodes\/n1\/status online$/m);

  await broker.stop();
  setSwap(procRoot, 50);
  const [, rearm] = await waitForEvents(daemon, 2);
  assert.equal(rearm?.type, 'rearm');
  await waitFor('the rearm queued', async () => (await metric(daemon, 'eventd_mqtt_queued')) === 1);
  assert.equal(received(rearm.id), undefined);

  await broker.start();
  await waitFor('mosquitto_sub to print the rearm', () => received(rearm.id), 20_000);
  await waitFor('the outbox drained', async () => (await metric(daemon, 'eventd_mqtt_queued')) === 0);
});

// A clean, bounded stop (issue 10, finding 4): with an event stream client
// attached, SIGTERM closed the API but sampling, events and actions went on
// until the client left (19.9 s; 40 events recorded after "stopping").
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DaemonProcess } from './helpers/daemon.js';
import { authHeader } from './helpers/api-token.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const stopTimeoutMs = 5_000;

test('SIGTERM with an event stream attached stops within stopTimeout, closes the stream and records nothing after "stopping"', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const dataDir = join(dir, 'data');
  setSwap(procRoot, 40);
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir, procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' }, stopTimeout: `${stopTimeoutMs}ms`,
  });
  defer(t, () => daemon.kill9());
  await daemon.start();
  const created = await daemon.request('POST', '/v1/subscriptions', {
    name: 'flap', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', where: '$resource = "total"', actions: [{ run: '/bin/true' }],
  });
  assert.equal(created.status, 201);

  // Crossings all the time, until the daemon is gone.
  let flapping = true;
  const flapper = (async () => {
    for (let up = true; flapping; up = !up) {
      setSwap(procRoot, up ? 80 : 40);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  })();
  defer(t, async () => { flapping = false; await flapper; });

  // An attached client, reading the live stream.
  const controller = new AbortController();
  defer(t, () => controller.abort());
  const response = await fetch(`${daemon.url}/v1/events/stream`, { headers: { accept: 'text/event-stream', ...authHeader(daemon.configFile) }, signal: controller.signal });
  assert.equal(response.status, 200);
  let received = 0;
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += (decoder.decode(chunk).match(/^id:/gm) ?? []).length;
      return 'ended';
    } catch {
      return 'cut';
    }
  })();
  // And one on the unix socket, as `eventctl events --follow` is.
  let overSocket = 0;
  const socketStream = new Promise<string>((resolve) => {
    const outgoing = request({ socketPath: join(dataDir, 'api.sock'), path: '/v1/events/stream', headers: { accept: 'text/event-stream' } }, (incoming) => {
      incoming.on('data', (chunk: Buffer) => (overSocket += (chunk.toString().match(/^id:/gm) ?? []).length));
      incoming.on('end', () => resolve('ended'));
      incoming.on('error', () => resolve('cut'));
      incoming.on('close', () => resolve('closed'));
    });
    outgoing.on('error', () => resolve('cut'));
    outgoing.end();
    defer(t, () => outgoing.destroy());
  });
  await waitFor('live events on both streams', () => received >= 4 && overSocket >= 4, 20_000);

  const stopped = daemon.stop();
  const outcome = await Promise.race([
    stopped.then(() => 'exited' as const),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), stopTimeoutMs + 5_000).unref()),
  ]);
  assert.equal(outcome, 'exited', 'the daemon did not exit with a client attached');
  assert.match(await reading, /ended|cut/);
  assert.match(await socketStream, /ended|cut|closed/);
  assert.doesNotMatch(daemon.log, /stop took longer than stopTimeout/, 'the stop was forced, not clean');

  const stopping = daemon.log.split('\n').map((line) => { try { return JSON.parse(line) as { msg?: string; time?: number }; } catch { return {}; } }).find((line) => line.msg === 'stopping');
  assert.ok(stopping?.time, 'a "stopping" line');
  const db = new Database(join(dataDir, 'eventd.db'), { readonly: true });
  defer(t, () => db.close());
  const events = db.prepare('SELECT time FROM events').all() as { time: number }[];
  assert.ok(events.length >= 4);
  const late = events.filter((event) => event.time > (stopping.time as number));
  assert.deepEqual(late, [], 'events sampled after "stopping"');
  const lateRuns = db.prepare('SELECT id FROM action_runs WHERE started_at > ?').all(stopping.time) as unknown[];
  assert.deepEqual(lateRuns, [], 'action runs started after "stopping"');
});

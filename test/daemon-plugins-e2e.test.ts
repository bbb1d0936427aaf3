// Issue 3's promise on a real daemon process: the built-in classes are there,
// FileSystem reports the real `/`, a plugin folder dropped in while the daemon
// runs fires its subscription, and plugins that print garbage or hang change
// nothing for the rest.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

type Events = { events: EventRecord[] };
type Classes = { classes: { class: string }[] };

/** A shell plugin, written in a staging folder and moved in whole, as an installer would. */
function dropPlugin(staging: string, pluginDir: string, folder: string, className: string, body: string, attributes: Record<string, unknown>): void {
  const path = join(staging, folder);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'manifest.json'), JSON.stringify({ class: className, periodMs: 100, exec: 'run.sh', attributes }));
  writeFileSync(join(path, 'run.sh'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(path, 'run.sh'), 0o755);
  renameSync(path, join(pluginDir, folder));
}

test('built-in classes, the real root file system, a plugin dropped in live, and bad plugins isolated', async (t) => {
  const dir = tempDir(t);
  const pluginDir = join(dir, 'plugins');
  const staging = join(dir, 'staging');
  mkdirSync(pluginDir);
  mkdirSync(staging);
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1',
    dataDir: join(dir, 'data'),
    api: { port: 0 },
    plugins: { dirs: [pluginDir] },
    producers: { FileSystem: { periodMs: 100 } },
    log: { level: 'info' },
  });
  // A graceful stop: the daemon kills its producers' process groups (the hanging plugin's too); kill -9 would orphan them.
  defer(t, () => daemon.stop());
  await daemon.start();

  const { body: classes } = await daemon.request<Classes>('GET', '/v1/classes');
  const names = classes.classes.map((c) => c.class);
  for (const name of ['PagingSpace', 'FileSystem', 'Host', 'Process', 'IPAddress', 'NetworkInterface']) assert.ok(names.includes(name), `${name} in ${names.join(',')}`);

  // FileSystem on the real machine: `/` with a numeric percentUsed.
  const fs = await daemon.request('POST', '/v1/subscriptions', { name: 'root-seen', class: 'FileSystem', where: '$resource = "/"', expr: 'percentUsed >= 0' });
  assert.equal(fs.status, 201, JSON.stringify(fs.body));
  const rootEvent = await waitFor('an event for /', async () =>
    (await daemon.request<Events>('GET', '/v1/events?class=FileSystem')).body.events.find((e) => e.resource === '/'),
  );
  assert.equal(typeof rootEvent.attrs['percentUsed'], 'number');
  assert.ok((rootEvent.attrs['percentUsed'] as number) >= 0 && (rootEvent.attrs['percentUsed'] as number) <= 100);

  // Bad plugins first: one prints garbage, one hangs forever; both subscribed to.
  dropPlugin(staging, pluginDir, 'garbage', 'Garbage', 'echo \'this is not json\'\necho \'{"resource":"g","attrs":{"n":"NaN"}}\'', { n: { type: 'number' } });
  dropPlugin(staging, pluginDir, 'hang', 'Hang', 'sleep 100000', { n: { type: 'number' } });
  // Then the good one, timed from the moment it lands.
  const droppedAt = Date.now();
  dropPlugin(staging, pluginDir, 'temperature', 'Temperature', 'echo \'{"resource":"cpu0","attrs":{"celsius":91}}\'', { celsius: { type: 'number', unit: '°C' } });
  await waitFor('the dropped classes to be listed', async () => {
    const listed = (await daemon.request<Classes>('GET', '/v1/classes')).body.classes.map((c) => c.class);
    return ['Garbage', 'Hang', 'Temperature'].every((name) => listed.includes(name));
  }, 10_000);
  for (const [name, className] of [['garbage-any', 'Garbage'], ['hang-any', 'Hang']] as const) {
    const created = await daemon.request('POST', '/v1/subscriptions', { name, class: className, expr: 'n > 0' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const hot = await daemon.request('POST', '/v1/subscriptions', { name: 'too-hot', class: 'Temperature', expr: 'celsius > 90', rearm: 'celsius < 80' });
  assert.equal(hot.status, 201, JSON.stringify(hot.body));
  const fired = await waitFor('the dropped plugin to fire its subscription', async () =>
    (await daemon.request<Events>('GET', '/v1/events?class=Temperature')).body.events.find((e) => e.type === 'event'),
  10_000);
  assert.equal(fired.resource, 'cpu0');
  t.diagnostic(`plugin dropped in to its event: ${Date.now() - droppedAt} ms`);

  // The bad ones are counted, the daemon stays healthy and the rest keep sampling.
  const errorCount = (metrics: string, className: string, kind: string) =>
    Number(new RegExp(`eventd_producer_errors_total\\{[^}]*class="${className}"[^}]*kind="${kind}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  await waitFor('garbage and timeouts counted', async () => {
    const { body } = await daemon.request<string>('GET', '/metrics');
    return errorCount(body, 'Garbage', 'garbage') >= 2 && errorCount(body, 'Hang', 'timeout') >= 2;
  });
  assert.equal((await daemon.request('GET', '/healthz')).status, 200);
  const before = (await daemon.request<{ resources: { resource: string; time: string }[] }>('GET', '/v1/resources?class=FileSystem')).body.resources.find((r) => r.resource === '/')!.time;
  await waitFor('FileSystem samples still coming', async () =>
    (await daemon.request<{ resources: { resource: string; time: string }[] }>('GET', '/v1/resources?class=FileSystem')).body.resources.find((r) => r.resource === '/')!.time !== before,
  );
  const events = (await daemon.request<Events>('GET', '/v1/events')).body.events;
  assert.equal(events.filter((e) => e.class === 'Garbage' || e.class === 'Hang').length, 0);
  assert.equal(events.filter((e) => e.subscription === (hot.body as { id: string }).id).length, 1, 'one event per crossing, not per sample');
});

test('presets: listed, and subscribe --preset fills the subscription in', async (t) => {
  const dir = tempDir(t);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, log: { level: 'info' } });
  defer(t, () => daemon.kill9());
  await daemon.start();
  const { body } = await daemon.request<{ presets: { name: string; subscription: Record<string, unknown> }[] }>('GET', '/v1/presets');
  const names = body.presets.map((p) => p.name);
  for (const name of ['fs-space-high', 'fs-inodes-high', 'paging-space-low', 'load-high', 'memory-high', 'process-down', 'interface-down', 'ip-address-moved']) {
    assert.ok(names.includes(name), name);
  }
  // Every preset is accepted by the daemon as it is: expressions parse, attributes exist in their class.
  for (const preset of body.presets) {
    const created = await daemon.request('POST', '/v1/subscriptions', preset.subscription);
    assert.equal(created.status, 201, `${preset.name}: ${JSON.stringify(created.body)}`);
  }
  assert.equal((await daemon.request('GET', '/v1/presets/no-such')).status, 404);
});

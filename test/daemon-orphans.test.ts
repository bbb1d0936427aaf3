// A daemon killed -9 leaves its executables' process groups running (they
// are detached, so that a timeout reaches their children). The next start
// of the daemon kills them, and only them.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { DaemonProcess } from './helpers/daemon.js';
import { processGone } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const alive = (pid: number): boolean => !processGone(pid);

test('a stream plugin orphaned by kill -9 of the daemon is killed at the next start', async (t) => {
  const dir = tempDir(t);
  const plugins = join(dir, 'plugins');
  const folder = join(plugins, 'ticker');
  mkdirSync(folder, { recursive: true });
  // It ignores SIGPIPE: the daemon's death must not end it before the assertion below (only the next start's kill may).
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ class: 'Ticker', periodMs: 100, exec: 'run.sh', mode: 'stream', attributes: { n: { type: 'number' } } }));
  writeFileSync(join(folder, 'run.sh'), `#!/bin/sh\ntrap '' PIPE\necho $$ >> "${join(dir, 'pids')}"\nwhile true; do echo '{"resource":"r","attrs":{"n":1}}' 2>/dev/null; sleep 0.1; done\n`);
  chmodSync(join(folder, 'run.sh'), 0o755);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, plugins: { dirs: [plugins] }, log: { level: 'info' } });
  defer(t, () => daemon.stop());
  await daemon.start();
  const created = await daemon.request('POST', '/v1/subscriptions', { name: 'tick', class: 'Ticker', expr: 'n > 5' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const pids = () => readFileSync(join(dir, 'pids'), 'utf8').trim().split('\n').map(Number);
  const first = await waitFor('the stream plugin to start', () => { try { return pids()[0]; } catch { return undefined; } });
  // The recorded group must be on disk before the kill.
  await waitFor('the process list written', () => readFileSync(join(dir, 'data', 'producer-processes.json'), 'utf8').includes(String(first)));
  await daemon.kill9();
  assert.ok(alive(first), 'kill -9 of the daemon leaves the plugin running');
  defer(t, () => { try { process.kill(-first, 'SIGKILL'); } catch { /* reaped */ } });

  await daemon.start();
  await waitFor('the orphan killed', () => !alive(first));
  await waitFor('a fresh plugin process', () => pids().length >= 2 && alive(pids().at(-1)!));
  assert.match(daemon.log, /killed 1 producer process group\(s\) left running/);
});

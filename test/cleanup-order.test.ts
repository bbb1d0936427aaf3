// The test helpers' cleanup: one stack per test, last in first out, so a
// daemon is stopped before the folder it writes to is removed (node:test's
// own `t.after` hooks run first-registered first, which removed the folder
// under a live daemon); every stop has a deadline.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defer, type Hooks } from './helpers/cleanup.js';
import { DaemonProcess } from './helpers/daemon.js';
import { test } from './helpers/node-test.js';
import { processGone } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

/** A test's hooks as node:test keeps them (in registration order), run by hand when `end` is called. */
function fakeTest(): Hooks & { end: () => Promise<void>; registered: number } {
  const hooks: (() => unknown)[] = [];
  return {
    after: (fn) => void hooks.push(fn),
    get registered() { return hooks.length; },
    end: async () => { for (const hook of hooks) await hook(); },
  };
}

test('cleanup steps run newest first, all of them, and their failures are reported together', async () => {
  const t = fakeTest();
  const ran: string[] = [];
  defer(t, () => { ran.push('first'); });
  defer(t, () => { ran.push('second'); throw new Error('second broke'); });
  defer(t, async () => { ran.push('third'); });
  assert.equal(t.registered, 1, 'one node:test hook for the whole stack');
  await assert.rejects(t.end(), /second broke/);
  assert.deepEqual(ran, ['third', 'second', 'first']);
});

test('a daemon made in a temp folder is stopped before the folder is removed', async (t) => {
  const owner = fakeTest();
  const dir = tempDir(owner);
  const seen: { running: boolean; gone: boolean; folder: boolean }[] = [];
  let pid = 0;
  // Pushed between the folder and the daemon: runs after the daemon's stop, before the folder's removal.
  defer(owner, () => void seen.push({ running: daemon.running, gone: processGone(pid), folder: existsSync(join(dir, 'data')) }));
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, log: { level: 'info' } }, owner);
  defer(t, () => daemon.kill9()); // if this test fails half way
  await daemon.start();
  pid = daemon.pid!;
  assert.ok(existsSync(join(dir, 'data', 'eventd.db')), 'the daemon writes into the folder');

  await owner.end();
  assert.deepEqual(seen, [{ running: false, gone: true, folder: true }], 'the daemon was gone while its folder was still there');
  assert.equal(existsSync(dir), false, 'then the folder was removed');
  assert.match(daemon.log, /"msg":"stopping"/, 'a graceful stop (SIGTERM) came first');
});

test('stop escalates to SIGKILL when the daemon does not exit after SIGTERM, and says so', async (t) => {
  const dir = tempDir(t);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, log: { level: 'info' } }, t);
  await daemon.start();
  const pid = daemon.pid!;
  // A stopped process cannot act on SIGTERM; SIGKILL still ends it.
  process.kill(pid, 'SIGSTOP');
  await assert.rejects(daemon.stop(300), /ignored SIGTERM for 300 ms and was killed/);
  assert.equal(daemon.running, false);
  assert.deepEqual(await daemon.exit(0), { code: null, signal: 'SIGKILL' });
});

test('disposing of a daemon killed -9 in the test also kills the producer process groups it left running', async (t) => {
  const dir = tempDir(t);
  const folder = join(dir, 'plugins', 'ticker');
  mkdirSync(folder, { recursive: true });
  // It ignores SIGPIPE, so the end of its daemon does not end it: only a kill does.
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ class: 'Ticker', periodMs: 100, exec: 'run.sh', mode: 'stream', attributes: { n: { type: 'number' } } }));
  writeFileSync(join(folder, 'run.sh'), `#!/bin/sh\ntrap '' PIPE\necho $$ > "${join(dir, 'pid')}"\nwhile true; do echo '{"resource":"r","attrs":{"n":1}}' 2>/dev/null; sleep 0.1; done\n`);
  chmodSync(join(folder, 'run.sh'), 0o755);
  const owner = fakeTest();
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, plugins: { dirs: [join(dir, 'plugins')] }, log: { level: 'info' } }, owner);
  defer(t, () => owner.end());
  await daemon.start();
  assert.equal((await daemon.request('POST', '/v1/subscriptions', { name: 'tick', class: 'Ticker', expr: 'n > 5' })).status, 201);
  const plugin = await waitFor('the stream plugin to start', () => { try { return Number(readFileSync(join(dir, 'pid'), 'utf8')); } catch { return undefined; } });
  defer(t, () => { try { process.kill(-plugin, 'SIGKILL'); } catch { /* gone */ } });
  await waitFor('the process list written', () => readFileSync(join(dir, 'data', 'producer-processes.json'), 'utf8').includes(String(plugin)));
  await daemon.kill9();
  assert.equal(processGone(plugin), false, 'kill -9 of the daemon leaves its plugin running');

  await owner.end();
  await waitFor('the orphaned plugin killed', () => processGone(plugin), 5_000);
});

test('a stuck test fails by name within its timeout, its cleanup runs, the next test still runs, and the file ends', (t) => {
  const dir = tempDir(t);
  const helpers = (name: string) => pathToFileURL(join(import.meta.dirname, 'helpers', name)).href;
  const file = join(dir, 'stuck.test.mjs');
  writeFileSync(file, [
    "import { writeFileSync } from 'node:fs';",
    `import { defer } from '${helpers('cleanup.js')}';`,
    `import { test } from '${helpers('node-test.js')}';`,
    `test('stuck forever', async (t) => { defer(t, () => writeFileSync('${join(dir, 'cleaned')}', 'yes')); await new Promise(() => setInterval(() => {}, 1000)); });`,
    "test('the next one', () => {});",
  ].join('\n'));
  // A run of its own, not a child of this one (NODE_TEST_CONTEXT would make it report to us).
  const env: NodeJS.ProcessEnv = { ...process.env, EVENTD_TEST_TIMEOUT_MS: '1000', EVENTD_TEST_LINGER_MS: '1000' };
  delete env['NODE_TEST_CONTEXT'];
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', timeout: 60_000, env });
  assert.equal(run.signal, null, 'the run ended by itself, though the stuck test still holds a timer');
  assert.notEqual(run.status, 0);
  assert.match(run.stdout, /not ok 1 - stuck forever[\s\S]*test timed out after 1000ms/);
  assert.match(run.stdout, /^ok 2 - the next one/m);
  assert.equal(readFileSync(join(dir, 'cleaned'), 'utf8'), 'yes', 'the stuck test\'s cleanup ran');
  assert.match(run.stdout + run.stderr, /still holds its process open/);
});

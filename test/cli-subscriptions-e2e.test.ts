// eventctl against a real daemon: one subscription shown with its status,
// fault and per-resource errors (like lscondition); enable/disable; warnings
// from subscribe; classes with the configured period; lists oldest first;
// --version.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../services/eventd/paths.js';
import { DaemonProcess } from './helpers/daemon.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const eventctlBin = join(packageRoot, 'bin', 'eventctl');

function eventctl(api: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.EVENTD_API;
    delete env.EVENTD_TOKEN;
    const child = spawn(process.execPath, [eventctlBin, '--api', api, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('eventctl shows one subscription with its error and states, enables and disables it, prints warnings, the configured period and its version', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  cpSync(join(packageRoot, 'test', 'fixtures', 'proc-host'), procRoot, { recursive: true });
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { Host: { periodMs: 100 } }, log: { level: 'info' } });
  defer(t, () => daemon.kill9());
  await daemon.start();
  const api = daemon.url;

  const version = await eventctl(api, ['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version);

  const classes = await eventctl(api, ['classes']);
  assert.match(classes.stdout, /^Host +100ms \(configured; default 10s\) +no /m);

  // First, while there is no Host sample to try it on at creation.
  const loop = await eventctl(api, ['subscribe', '--name', 'loop', '--class', 'Host', '--expr', '($f := function($n){$f($n+1)}; $f(0))']);
  assert.equal(loop.code, 0, loop.stderr);
  const warned = await eventctl(api, ['subscribe', '--name', 'bare', '--class', 'Host', '--expr', 'load1']);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /^eventctl: warning: expr: the expression is a number, used as a condition/m);
  const typed = await eventctl(api, ['subscribe', '--name', 'typed', '--class', 'Host', '--expr', 'cpuPercent.foo > 1']);
  assert.equal(typed.code, 1);
  assert.match(typed.stderr, /type error at position 14/);

  await waitFor('loop in error', async () => /^status: +error$/m.test((await eventctl(api, ['subscriptions', 'loop'])).stdout), 20_000);
  const shown = await eventctl(api, ['subscriptions', 'loop']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^error: +expr: Evaluation timeout after 250 milliseconds/m);
  assert.match(shown.stdout, /^error code: +D1012$/m);
  assert.match(shown.stdout, /^error event: +n1:\d+$/m);
  assert.match(shown.stdout, /^name: +loop$/m);

  const bare = await eventctl(api, ['subscriptions', 'bare']);
  assert.match(bare.stdout, /^status: +active$/m);
  assert.match(bare.stdout, /^NODE +RESOURCE +STATE +LAST EVENT +ERRORS +FAILING +LAST ERROR$/m);
  assert.match(bare.stdout, /^n1 +n1 +fired +n1:\d+ +0 +no +-$/m);

  const list = await eventctl(api, ['subscriptions']);
  const rows = list.stdout.trimEnd().split('\n').slice(1);
  assert.deepEqual(rows.map((row) => row.split(/ +/)[1]), ['loop', 'bare'], 'oldest first');
  assert.deepEqual(rows.map((row) => row.split(/ +/)[2]), ['error', 'active']);

  const disabled = await eventctl(api, ['subscription', 'disable', 'bare']);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal(disabled.stdout, `disabled subscription bare (${/^id: +(\w+)$/m.exec(bare.stdout)?.[1]}): disabled\n`);
  const enabled = await eventctl(api, ['subscription', 'enable', 'loop']);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.match(enabled.stdout, /^enabled subscription loop \(\w+\): active\n$/);
  // Enabled again, the loop runs out of budget again: back in error, with a second error event.
  await waitFor('loop in error again', async () => /^status: +error$/m.test((await eventctl(api, ['subscriptions', 'loop'])).stdout), 20_000);
  const events = await daemon.request<{ events: { type: string }[] }>('GET', '/v1/events?subscription=loop');
  assert.equal(events.body.events.filter((event) => event.type === 'error').length, 2);
  const missing = await eventctl(api, ['subscription', 'enable', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /EVENTD_ERR_SUBSCRIPTION_NOT_FOUND/);
  await daemon.stop();
});

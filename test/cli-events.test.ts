// `eventctl events` on a real daemon (issue 10, CLI friction): the list says
// when it was cut, --tail and --since 10m, and --follow starts at the end
// unless told --from-start.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const eventctl = fileURLToPath(new URL('../../bin/eventctl', import.meta.url));

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function cli(dataDir: string, args: readonly string[]): Cli {
  const child = spawn(process.execPath, [eventctl, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stdout: () => stdout, exited };
}

async function run(dataDir: string, args: readonly string[]) {
  const started = cli(dataDir, args);
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 20_000);
  const result = await started.exited;
  clearTimeout(timer);
  return result;
}

const ids = (jsonLines: string) => jsonLines.trim().split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as EventRecord).id);

test('events: the cut is said, --tail N, --since 10m; --follow starts at the end, --from-start and --tail before it', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const dataDir = join(dir, 'data');
  setSwap(procRoot, 40);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir, procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' } });
  defer(t, () => daemon.stop());
  await daemon.start();
  assert.equal((await daemon.request('POST', '/v1/subscriptions', { name: 'flap', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', where: '$resource = "total"' })).status, 201);
  const count = async () => (await daemon.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events.length;
  // Six crossings (event, rearm, ...), each seen before the next.
  for (let n = 1; n <= 6; n++) {
    setSwap(procRoot, n % 2 === 1 ? 80 : 40);
    await waitFor(`event ${n}`, async () => (await count()) === n);
  }

  const cut = await run(dataDir, ['events', '--limit', '2']);
  assert.equal(cut.code, 0, cut.stderr);
  assert.equal(cut.stdout.trim().split('\n').length, 3); // header and two rows
  assert.match(cut.stderr, /^eventctl: the list was cut at 2 events; the next ones: eventctl events --since n1:2/);
  const whole = await run(dataDir, ['events']);
  assert.equal(whole.stderr, '');
  assert.equal(whole.stdout.trim().split('\n').length, 7);

  const tail = await run(dataDir, ['--json', 'events', '--tail', '2']);
  assert.deepEqual((JSON.parse(tail.stdout) as { events: EventRecord[] }).events.map((e) => e.id), ['n1:5', 'n1:6']);
  const recent = await run(dataDir, ['--json', 'events', '--since', '10m']);
  assert.equal((JSON.parse(recent.stdout) as { events: EventRecord[] }).events.length, 6);
  const future = await run(dataDir, ['--json', 'events', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
  assert.deepEqual((JSON.parse(future.stdout) as { events: EventRecord[] }).events, []);
  const both = await run(dataDir, ['events', '--tail', '2', '--since', 'n1:1']);
  assert.equal(both.code, 2);

  // Three followers, started now: from the end (the default), from the start, and the last two first.
  const fromEnd = cli(dataDir, ['--json', 'events', '--follow']);
  const fromStart = cli(dataDir, ['--json', 'events', '--follow', '--from-start']);
  const lastTwo = cli(dataDir, ['--json', 'events', '--follow', '--tail', '2']);
  const followers = [fromEnd, fromStart, lastTwo];
  defer(t, () => { for (const follower of followers) follower.child.kill('SIGKILL'); });
  await waitFor('--from-start to print the log', () => ids(fromStart.stdout()).length >= 6);
  await waitFor('--tail 2 to print two', () => ids(lastTwo.stdout()).length >= 2);
  // Crossings until the follower from the end has printed one: it prints only events newer than its start.
  for (let n = 7; ids(fromEnd.stdout()).length === 0; n++) {
    setSwap(procRoot, n % 2 === 1 ? 80 : 40);
    await waitFor(`event ${n}`, async () => (await count()) === n);
    if (n > 40) assert.fail('the follower from the end printed nothing');
  }
  const total = await count();
  await waitFor('every follower to catch up', () => followers.every((follower) => ids(follower.stdout()).at(-1) === `n1:${total}`));
  for (const follower of followers) follower.child.kill('SIGINT');
  const seq = (id: string) => Number(id.split(':')[1]);
  const endIds = ids(fromEnd.stdout());
  assert.ok(endIds.every((id) => seq(id) > 6), `the default --follow replayed old events: ${endIds.join(' ')}`);
  assert.deepEqual(ids(fromStart.stdout()).map(seq), Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(ids(lastTwo.stdout()).map(seq), Array.from({ length: total - 4 }, (_, i) => i + 5));
});

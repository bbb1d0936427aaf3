// One daemon per data folder (issue 10, finding 3): two daemons on one folder
// both ran, and one crossing became two events with the script run twice.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../services/eventd/paths.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess, freshSamples } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

/** Runs bin/eventd to its exit (it must exit: the folder is taken); fails past the deadline, never hangs. */
function eventdExit(configFile: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'eventd'), '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the second eventd did not exit within 20 s:\n${output}`));
    }, 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

test('a second daemon on a data folder in use exits 2 naming the folder and the holder; one crossing gives one event and one run', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const dataDir = join(dir, 'data');
  setSwap(procRoot, 40);
  const runs = join(dir, 'runs');
  const script = join(dir, 'count.sh');
  writeFileSync(script, `#!/bin/sh\necho "$EVENTD_EVENT_ID" >> ${runs}\n`);
  chmodSync(script, 0o755);
  const config = { node: 'n1', dataDir, procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' } };
  const first = DaemonProcess.withConfig(dir, config);
  defer(t, () => first.stop());
  await first.start();
  const pid = Number(readFileSync(join(dataDir, 'eventd.pid'), 'utf8'));

  const secondConfig = join(dir, 'second.json');
  writeFileSync(secondConfig, JSON.stringify(config));
  const second = await eventdExit(secondConfig);
  assert.equal(second.status, 2, second.output);
  assert.equal(second.output.trim().split('\n').length, 1, `one line, no stack:\n${second.output}`);
  assert.ok(second.output.includes(dataDir), second.output);
  assert.match(second.output, new RegExp(`pid ${pid}\\b`));
  assert.match(second.output, /in use/);

  // The first daemon is untouched: its socket still answers, and a crossing is one event, one run.
  const created = await first.request('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', actions: [{ run: script }],
  });
  assert.equal(created.status, 201);
  await freshSamples(first);
  setSwap(procRoot, 80);
  await waitFor('the event', async () => (await first.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events.length >= 1);
  await waitFor('the run', () => readFileSync(runs, 'utf8').trim() !== '' || undefined);
  await freshSamples(first);
  assert.equal((await first.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events.length, 1);
  await waitFor('the run recorded', async () => {
    const { actions } = (await first.request<{ actions: { status: string }[] }>('GET', '/v1/actions')).body;
    return actions.length > 0 && actions.every((run) => run.status === 'ok');
  });
  assert.equal((await first.request<{ actions: unknown[] }>('GET', '/v1/actions')).body.actions.length, 1);
  assert.equal(readFileSync(runs, 'utf8').trim().split('\n').length, 1);

  // Once the holder is gone (kill -9 too: the kernel drops the lock), the folder is free.
  await first.kill9();
  await first.start();
  assert.notEqual(Number(readFileSync(join(dataDir, 'eventd.pid'), 'utf8')), pid);
});

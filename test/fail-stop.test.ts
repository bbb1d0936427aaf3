// Fail-stop on a real fault (DESIGN.md, "Storage"): the daemon's data folder
// is a small tmpfs, filled up while paging space keeps crossing a threshold.
// The daemon must stop by itself (exit 74) with one fatal line naming what
// failed, and must not have announced anything it did not write: after the
// space is freed and it restarts on the same folder, every event an SSE
// client saw and every event a script action ran for is on disk, and the
// sequence on disk has no hole.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecord } from '../services/eventd/types.js';
import { fatalExitCode } from '../services/eventd/fatal.js';
import { DaemonProcess, freshSamples } from './helpers/daemon.js';
import { test } from './helpers/node-test.js';
import { setSwap } from './helpers/proc.js';
import { authHeader } from './helpers/api-token.js';
import { followEvents } from './helpers/sse.js';
import { tempDir, waitFor } from './helpers/tmp.js';
import { fillUp, freeUp, mountTmpfs } from './helpers/tmpfs.js';

type Events = { events: EventRecord[] };

/** The lines of a pino log at level fatal (60). */
function fatalLines(log: string): { msg: string; what?: string }[] {
  return log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; what?: string }).filter((entry) => entry.level === 60);
}

test('a full data folder stops the daemon (exit 74, one fatal line); after restart everything announced is on disk, nothing skipped', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const unavailable = mountTmpfs(t, dataDir, 2048);
  if (unavailable) return t.skip(unavailable);
  const procRoot = join(dir, 'proc');
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  setSwap(procRoot, 40);
  // The script logs the event it ran for (outside the tmpfs: its writes do not fail).
  const script = join(dir, 'record.sh');
  writeFileSync(script, `#!/bin/sh\necho "$EVENTD_EVENT_ID" >> "${join(outDir, 'actions.log')}"\n`);
  chmodSync(script, 0o755);
  const actionLog = () => (existsSync(join(outDir, 'actions.log')) ? readFileSync(join(outDir, 'actions.log'), 'utf8').trim().split('\n').filter(Boolean) : []);

  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir, procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' },
  }, t);
  await daemon.start();
  const created = await daemon.request('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', actions: [{ run: script, timeout: '10s', on: ['event', 'rearm'] }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await freshSamples(daemon);
  const client = followEvents(daemon.url, authHeader(daemon.configFile));

  // Before the fault: crossings recorded, streamed, acted on.
  let percent = 40;
  const cross = () => setSwap(procRoot, (percent = percent === 80 ? 50 : 80));
  for (let crossing = 1; crossing <= 3; crossing++) {
    cross();
    await waitFor(`crossing ${crossing} streamed (device and total)`, () => client.received.length >= crossing * 2);
  }
  await waitFor('the actions of the first crossings run', () => actionLog().length >= 6);

  // The fault: no space left. Crossings go on until the daemon stops.
  const filled = fillUp(dataDir);
  t.diagnostic(`tmpfs filled with ${filled.bytes} bytes; crossing every few samples until the daemon stops`);
  const deadline = Date.now() + 60_000;
  let crossingsAfterFull = 0;
  while (daemon.running && Date.now() < deadline) {
    cross();
    crossingsAfterFull++;
    const seen = client.received.length;
    // Each crossing is either streamed (the write still found room: SQLite reuses WAL pages) or the daemon is gone.
    await waitFor('the crossing streamed, or the daemon gone', () => !daemon.running || client.received.length > seen, 5_000).catch(() => undefined);
  }
  const exit = await daemon.exit(10_000);
  t.diagnostic(`daemon stopped after ${crossingsAfterFull} crossing(s) on a full disk; SSE saw ${client.received.length} events, the script ran ${actionLog().length} times`);
  assert.deepEqual(exit, { code: fatalExitCode, signal: null }, `the daemon exits ${fatalExitCode} by itself on a full disk:\n${daemon.log.split('\n').slice(-10).join('\n')}`);
  const fatals = fatalLines(daemon.log);
  assert.equal(fatals.length, 1, `one fatal line: ${JSON.stringify(fatals)}`);
  assert.match(fatals[0]!.msg, /^stopping: .+ failed to commit \(.+\); nothing of it was announced$/);
  assert.ok(fatals[0]!.what, 'the fatal line names what failed');
  t.diagnostic(`fatal: ${fatals[0]!.msg}`);
  await client.ended;
  const streamed = client.received.map((event) => event.id);
  const acted = actionLog();

  // Space back, same folder: everything announced before the stop is there.
  freeUp(filled.file);
  await daemon.start();
  const onDisk = (await daemon.request<Events>('GET', '/v1/events?limit=10000')).body.events;
  const ids = new Set(onDisk.map((event) => event.id));
  assert.deepEqual(streamed.filter((id) => !ids.has(id)), [], 'every event the SSE client saw is on disk');
  assert.deepEqual(acted.filter((id) => !ids.has(id)), [], 'every event a script action ran for is on disk');
  assert.deepEqual(onDisk.slice(0, streamed.length).map((event) => event.id), streamed, 'the stream showed the log in its order');
  const byOrigin = new Map<string, number[]>();
  for (const event of onDisk) byOrigin.set(event.origin, [...(byOrigin.get(event.origin) ?? []), event.seq]);
  for (const [origin, seqs] of byOrigin) assert.deepEqual(seqs, seqs.map((_, index) => index + 1), `${origin}: seqs on disk are 1..${seqs.length} with no hole`);
  // The crossing the full disk cut off is not lost: the threshold state on disk (not memory) is where the restart goes on from.
  const due = percent === 80 ? 'event' : 'rearm';
  const settled = await waitFor(`the cut-off crossing (${due} at ${percent}%) recorded after the restart`, async () => {
    const events = (await daemon.request<Events>('GET', '/v1/events?limit=10000')).body.events;
    const last = (resource: string) => events.filter((event) => event.resource === resource).at(-1);
    return ['total', '/dev/sda2'].every((resource) => last(resource)?.type === due && last(resource)?.attrs['percentUsed'] === percent) ? events : undefined;
  });
  assert.deepEqual(settled.map((event) => event.seq), settled.map((_, index) => index + 1));
  // And the daemon goes on from there: the next crossing continues the sequence.
  const before = settled.length;
  cross();
  const next = await waitFor('a crossing after the restart', async () => {
    const events = (await daemon.request<Events>('GET', '/v1/events?limit=10000')).body.events;
    return events.length > before ? events : undefined;
  });
  assert.equal(next[before]?.seq, before + 1);
});

// Action process trees (issue 10, finding 5): a script that backgrounded
// `sleep 300` was reported ok and the sleep survived; scripts also survived a
// kill -9 of the daemon and overlapped their own re-run (attempt 2).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ActionDispatcher } from '../services/eventd/actions/index.js';
import { CgroupPlacer } from '../services/eventd/actions/cgroup.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { ActionRunStore } from '../services/eventd/store/action-runs.js';
import { openDb } from '../services/eventd/store/db.js';
import { EventStore } from '../services/eventd/store/events.js';
import type { EventRecord, RunAction } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { processGone, setSwap } from './helpers/proc.js';
import { waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 15_000;

/** A dispatcher over a real store in a fresh folder; everything is stopped and removed when the test ends. */
function fixture(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-trees-'));
  const db = openDb(join(dir, 'data'));
  const runs = new ActionRunStore(db);
  const events = new EventStore(db);
  const leftovers: number[] = [];
  const dispatchers: ActionDispatcher[] = [];
  t.after(async () => {
    for (const dispatcher of dispatchers) await dispatcher.stop(0);
    for (const pid of leftovers) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let seq = 0;
  return {
    dir,
    leftovers,
    runs,
    dispatcher(): ActionDispatcher {
      const cgroups = CgroupPlacer.detect();
      const dispatcher = new ActionDispatcher({
        runs, events, logger: silentLogger(), metrics: createMetrics(), concurrency: 4, outputLimitBytes: 4096, fatal: (error) => { throw error; },
        retry: { maxAttempts: 1, maxAgeMs: 60_000, initialBackoffMs: 1000, maxBackoffMs: 1000 },
        ...(cgroups === undefined ? {} : { cgroups }),
      });
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    emit(action: Omit<RunAction, 'on'>): number {
      seq += 1;
      const event: EventRecord = {
        id: `n1:${seq}`, origin: 'n1', seq, hlc: `0000000000001-${String(seq).padStart(4, '0')}-n1`, type: 'event', subscription: 's1',
        subscriptionName: 's1', class: 'PagingSpace', resource: 'total', node: 'n1', expr: 'x', attrs: {}, time: new Date().toISOString(),
      } as EventRecord;
      db.transaction(() => {
        events.append(event);
        runs.enqueue({ eventId: event.id, subscription: 's1', actionIndex: 0, response: null, spec: { ...action, on: ['event', 'rearm'] }, node: 'n1' }, Date.now());
      })();
      return (runs.list({ eventId: event.id, limit: 1 })[0] as { id: number }).id;
    },
    script(name: string, body: string): string {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
  };
}

test('what a script leaves running is killed when it exits; the run is ok', async (t) => {
  const fx = fixture(t);
  const run = fx.script('bg.sh', `sleep 300 &\necho $! > "${fx.dir}/bg"\necho started`);
  const id = fx.emit({ run, timeout: '60s' });
  const dispatcher = fx.dispatcher();
  dispatcher.start();
  await dispatcher.idle();
  const sleeper = Number(readFileSync(join(fx.dir, 'bg'), 'utf8'));
  fx.leftovers.push(sleeper);
  const done = fx.runs.get(id);
  assert.equal(done?.status, 'ok');
  assert.equal(done?.stdout, 'started\n');
  // Gone by the time the run ended, not some time later: the next run of the subscription never overlaps it.
  assert.ok(processGone(sleeper), 'the background sleep survived its script');
});

test('a leftover that ignores SIGTERM is killed after the grace', async (t) => {
  const fx = fixture(t);
  const run = fx.script('stubborn.sh', `sh -c 'trap "" TERM; while :; do sleep 0.05; done' &\necho $! > "${fx.dir}/bg"`);
  const id = fx.emit({ run, timeout: '60s' });
  const dispatcher = fx.dispatcher();
  dispatcher.start();
  await dispatcher.idle();
  const stubborn = Number(readFileSync(join(fx.dir, 'bg'), 'utf8'));
  fx.leftovers.push(stubborn);
  assert.equal(fx.runs.get(id)?.status, 'ok');
  assert.ok(processGone(stubborn));
});

test('detach: true leaves what the script started running', async (t) => {
  const fx = fixture(t);
  const run = fx.script('service.sh', `sleep 300 > /dev/null 2>&1 &\necho $! > "${fx.dir}/bg"`);
  const id = fx.emit({ run, timeout: '60s', detach: true });
  const dispatcher = fx.dispatcher();
  dispatcher.start();
  await dispatcher.idle();
  const service = Number(readFileSync(join(fx.dir, 'bg'), 'utf8'));
  fx.leftovers.push(service);
  assert.equal(fx.runs.get(id)?.status, 'ok');
  assert.equal(processGone(service), false);
});

test('in a cgroup (where cgroups v2 are writable), a child that left the process group with setsid is killed too', async (t) => {
  if (CgroupPlacer.detect() === undefined) {
    t.skip('cgroups v2 are not writable on this machine: runs get their process group only');
    return;
  }
  const fx = fixture(t);
  const run = fx.script('escape.sh', `setsid sleep 300 > /dev/null 2>&1 < /dev/null &\nsleep 0.2\npgrep -n -f "sleep 300" > "${fx.dir}/bg"`);
  fx.emit({ run, timeout: '60s' });
  const dispatcher = fx.dispatcher();
  dispatcher.start();
  await dispatcher.idle();
  const escaped = Number(readFileSync(join(fx.dir, 'bg'), 'utf8'));
  fx.leftovers.push(escaped);
  await waitFor('the escaped sleep to be gone', () => processGone(escaped), DEADLINE_MS);
});

test('after kill -9 of the daemon, the running script and its children are killed at restart before attempt 2 runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-trees-'));
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const log = join(dir, 'log');
  // Attempt 1 records its pid and its child's, then blocks; attempt 2 records which of them still run.
  const script = join(dir, 'run.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    'if [ "$EVENTD_ACTION_ATTEMPT" = 1 ]; then',
    `  sleep 300 & echo "$$ $!" > ${dir}/pids`,
    '  wait',
    'fi',
    `for pid in $(cat ${dir}/pids); do if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' /proc/$pid/status; then echo "alive $pid" >> ${log}; fi; done`,
    `echo "attempt $EVENTD_ACTION_ATTEMPT done" >> ${log}`,
  ].join('\n'));
  chmodSync(script, 0o755);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' } });
  let pids: number[] = [];
  t.after(async () => {
    await daemon.stop();
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.start();
  const created = await daemon.request('POST', '/v1/subscriptions', {
    name: 'slow', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', actions: [{ run: script, timeout: '10m' }],
  });
  assert.equal(created.status, 201);
  setSwap(procRoot, 80);
  pids = await waitFor('attempt 1 to start', () => existsSync(join(dir, 'pids')) && readFileSync(join(dir, 'pids'), 'utf8').trim().split(' ').map(Number), DEADLINE_MS);
  assert.equal(pids.length, 2);
  // spawn() returns once the script has exec'd, so under load the script can get this far before the
  // daemon records its group: wait for the record, the state a kill -9 must find.
  const record = join(dir, 'data', 'action-processes.json');
  await waitFor('the script\'s group recorded', () => existsSync(record) && readFileSync(record, 'utf8').includes(`"pid":${pids[0]}`), DEADLINE_MS);
  await daemon.kill9();
  assert.ok(pids.every((pid) => !processGone(pid)), 'kill -9 of the daemon leaves its script running');

  await daemon.start();
  const lines = await waitFor('attempt 2 to finish', () => existsSync(log) && readFileSync(log, 'utf8').includes('attempt 2 done') && readFileSync(log, 'utf8'), DEADLINE_MS);
  assert.equal(lines, 'attempt 2 done\n', `attempt 1 still ran when attempt 2 started:\n${daemon.log}`);
  assert.ok(pids.every(processGone));
});

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from './helpers/node-test.js';
import { ActionDispatcher, MAX_ENV_VALUE_BYTES, actionEnv, upperSnake } from '../services/eventd/actions/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics, type Metrics } from '../services/eventd/metrics.js';
import { ActionRunStore, type ActionRun } from '../services/eventd/store/action-runs.js';
import { openDb, type Db } from '../services/eventd/store/db.js';
import { EventStore } from '../services/eventd/store/events.js';
import type { RetryPolicy } from '../services/eventd/actions/retry.js';
import type { Attrs, EventRecord, EventType, RunAction } from '../services/eventd/types.js';
import { processGone } from './helpers/proc.js';
import { waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 15_000;



interface Fixture {
  dir: string;
  db: Db;
  runs: ActionRunStore;
  events: EventStore;
  metrics: Metrics;
  dispatchers: ActionDispatcher[];
  seq: number;
  /** Processes a test left behind on purpose, killed at the end. */
  leftovers: number[];
}

let fx: Fixture;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-actions-'));
  const db = openDb(join(dir, 'data'));
  fx = { dir, db, runs: new ActionRunStore(db), events: new EventStore(db), metrics: createMetrics(), dispatchers: [], seq: 0, leftovers: [] };
});

afterEach(async () => {
  for (const dispatcher of fx.dispatchers) await dispatcher.stop(0);
  for (const pid of fx.leftovers) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  fx.db.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

function dispatcher(options: { concurrency?: number; outputLimitBytes?: number; metrics?: Metrics; retry?: Partial<RetryPolicy> } = {}): ActionDispatcher {
  const d = new ActionDispatcher({
    runs: fx.runs,
    events: fx.events,
    logger: silentLogger(),
    metrics: options.metrics ?? fx.metrics,
    concurrency: options.concurrency ?? 16,
    outputLimitBytes: options.outputLimitBytes ?? 64 * 1024,
    // One attempt unless a test asks for retries: these tests are about a single run.
    retry: { maxAttempts: 1, maxAgeMs: 3_600_000, initialBackoffMs: 10, maxBackoffMs: 100, ...options.retry },
    fatal: (error) => { throw error; },
  });
  fx.dispatchers.push(d);
  return d;
}

function script(name: string, body: string, mode = 0o755): string {
  const path = join(fx.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

function makeEvent(subscription: string, type: EventType = 'event', attrs: Attrs = { percentUsed: 91.5 }): EventRecord {
  const seq = ++fx.seq;
  return {
    id: `n1:${seq}`,
    origin: 'n1',
    seq,
    hlc: `0000000000001-${String(seq).padStart(4, '0')}-n1`,
    type,
    subscription,
    subscriptionName: `${subscription}-name`,
    class: 'FileSystem',
    resource: '/dev/sda2',
    node: 'n1',
    expr: 'percentUsed > 90',
    attrs,
    time: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, seq)).toISOString(),
  };
}

/** Appends the event and its action rows in one transaction, as the evaluator does. */
function emit(event: EventRecord, ...actions: Omit<RunAction, 'on'>[]): ActionRun[] {
  fx.db.transaction(() => {
    fx.events.append(event);
    actions.forEach((action, index) => fx.runs.enqueue({ eventId: event.id, subscription: event.subscription, actionIndex: index, response: null, spec: { ...action, on: ['event', 'rearm'] }, node: 'n1' }, Date.now()));
  })();
  return fx.runs.list({ eventId: event.id, limit: 100 }).reverse();
}

function row(run: ActionRun): ActionRun {
  const current = fx.runs.get(run.id);
  assert.ok(current, `run ${run.id} exists`);
  return current;
}

function only(runs: ActionRun[]): ActionRun {
  assert.equal(runs.length, 1);
  return runs[0] as ActionRun;
}

describe('actionEnv', () => {
  test('names attributes in UPPER_SNAKE and writes booleans as true/false', () => {
    assert.equal(upperSnake('percentUsed'), 'PERCENT_USED');
    assert.equal(upperSnake('totalKiB'), 'TOTAL_KIB');
    assert.equal(upperSnake('usedMiB'), 'USED_MIB');
    assert.equal(upperSnake('lastHeardMs'), 'LAST_HEARD_MS');
    assert.equal(upperSnake('httpURLPath'), 'HTTP_URL_PATH');
    assert.equal(upperSnake('ipv4Address'), 'IPV4_ADDRESS');
    assert.equal(upperSnake('up'), 'UP');
    assert.equal(upperSnake('Node'), 'NODE');
    const event = makeEvent('s1', 'rearm', { percentUsed: 12, totalKiB: 2048, mounted: true, readOnly: false, fsType: 'ext4' });
    assert.deepEqual(actionEnv(event), {
      EVENTD_EVENT_ID: event.id,
      EVENTD_EVENT_TYPE: 'rearm',
      EVENTD_SUBSCRIPTION: 's1-name',
      EVENTD_SUBSCRIPTION_ID: 's1',
      EVENTD_CLASS: 'FileSystem',
      EVENTD_RESOURCE: '/dev/sda2',
      EVENTD_NODE: 'n1',
      EVENTD_EXPR: 'percentUsed > 90',
      EVENTD_TIME: event.time,
      EVENTD_ATTR_PERCENT_USED: '12',
      EVENTD_ATTR_TOTAL_KIB: '2048',
      EVENTD_ATTR_MOUNTED: 'true',
      EVENTD_ATTR_READ_ONLY: 'false',
      EVENTD_ATTR_FS_TYPE: 'ext4',
    });
  });

  test('leaves out attribute values too long for one environment variable (stdin has them whole)', () => {
    const env = actionEnv(makeEvent('s1', 'event', { percentUsed: 1, note: 'y'.repeat(MAX_ENV_VALUE_BYTES + 1), label: 'y'.repeat(MAX_ENV_VALUE_BYTES) }));
    assert.equal(env.EVENTD_ATTR_PERCENT_USED, '1');
    assert.equal(env.EVENTD_ATTR_NOTE, undefined);
    assert.equal(env.EVENTD_ATTR_LABEL?.length, MAX_ENV_VALUE_BYTES);
  });
});

describe('ActionDispatcher', () => {
  test('the script gets the event on stdin and the EVENTD_* variables, plus the daemon environment', async () => {
    process.env.ACTIONS_TEST_INHERITED = 'from-the-daemon';
    const run = script('record.sh', [
      'env | grep "^EVENTD_" | sort > "$1/env.txt"',
      'printf "%s" "$ACTIONS_TEST_INHERITED" > "$1/inherited.txt"',
      'cat > "$1/stdin.json"',
    ].join('\n'));
    const event = makeEvent('s1', 'event', { percentUsed: 91.5, totalKiB: 1024, mounted: true, readOnly: false, fsType: 'ext4' });
    const r = only(emit(event, { run, args: [fx.dir], timeout: '10s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    delete process.env.ACTIONS_TEST_INHERITED;

    assert.equal(row(r).status, 'ok');
    const env: Record<string, string> = Object.fromEntries(
      readFileSync(join(fx.dir, 'env.txt'), 'utf8').trimEnd().split('\n').map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)];
      }),
    );
    assert.equal(env.EVENTD_ATTR_TOTAL_KIB, '1024');
    assert.equal(env.EVENTD_ATTR_MOUNTED, 'true');
    assert.deepEqual(env, { ...actionEnv(event), EVENTD_ACTION_ATTEMPT: '1' });
    assert.equal(readFileSync(join(fx.dir, 'inherited.txt'), 'utf8'), 'from-the-daemon');
    const stdin = readFileSync(join(fx.dir, 'stdin.json'), 'utf8');
    assert.equal(stdin, JSON.stringify(event) + '\n');
    assert.deepEqual(JSON.parse(stdin), event);
  });

  test('captures stdout and stderr, truncated past the bound with the dropped count', async () => {
    const run = script('chatty.sh', 'head -c 300 /dev/zero | tr "\\000" x\necho oops >&2');
    const r = only(emit(makeEvent('s1'), { run, timeout: '10s' }));
    const d = dispatcher({ outputLimitBytes: 100 });
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'ok');
    assert.equal(done.exitCode, 0);
    assert.equal(done.stdout, `${'x'.repeat(100)}\n[truncated 200 bytes]`);
    assert.equal(done.stderr, 'oops\n');
    assert.equal(done.attempt, 1);
    assert.ok(done.startedAt !== null && done.endedAt !== null && done.endedAt >= done.startedAt);
  });

  test('a timeout kills the script and its children and records timeout', async () => {
    const run = script('hang.sh', 'echo $$ > "$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid"\nsleep 100 &\necho $! > "$1/child.tmp" && mv "$1/child.tmp" "$1/child"\nwait');
    const r = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '1s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'timeout');
    assert.equal(done.signal, 'SIGTERM');
    assert.equal(done.exitCode, null);
    const pid = Number(readFileSync(join(fx.dir, 'pid'), 'utf8'));
    const child = Number(readFileSync(join(fx.dir, 'child'), 'utf8'));
    fx.leftovers.push(pid, child);
    await waitFor('the script to be gone', () => processGone(pid), DEADLINE_MS);
    await waitFor('the script\'s child to be gone', () => processGone(child), DEADLINE_MS);
  });

  test('a script that ignores SIGTERM is killed after the grace', async () => {
    const run = script('stubborn.sh', 'trap "" TERM\necho $$ > "$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid"\nwhile :; do sleep 0.05; done');
    const r = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '1s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'timeout');
    assert.equal(done.signal, 'SIGKILL');
    const pid = Number(readFileSync(join(fx.dir, 'pid'), 'utf8'));
    fx.leftovers.push(pid);
    await waitFor('the script to be gone', () => processGone(pid), DEADLINE_MS);
  });

  test('a non-zero exit is recorded failed; with maxAttempts 1 it is given up at once', async () => {
    const run = script('fail.sh', 'echo bad >&2\nexit 3');
    const r = only(emit(makeEvent('s1'), { run, timeout: '10s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'failed');
    assert.equal(done.exitCode, 3);
    assert.equal(done.signal, null);
    assert.equal(done.error, null);
    assert.equal(done.stderr, 'bad\n');
    assert.deepEqual(fx.runs.open(), []);
  });

  test('a script killed by a signal is recorded failed with the signal', async () => {
    const r = only(emit(makeEvent('s1'), { run: script('suicide.sh', 'kill -KILL $$'), timeout: '10s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'failed');
    assert.equal(done.signal, 'SIGKILL');
    assert.equal(done.exitCode, null);
  });

  test('a missing or non-executable script is recorded failed with the spawn error', async () => {
    const missing = only(emit(makeEvent('s1'), { run: join(fx.dir, 'no-such-script'), timeout: '10s' }));
    const notExec = only(emit(makeEvent('s2'), { run: script('plain.sh', 'exit 0', 0o644), timeout: '10s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.equal(row(missing).status, 'failed');
    assert.match(row(missing).error ?? '', /ENOENT/);
    assert.equal(row(notExec).status, 'failed');
    assert.match(row(notExec).error ?? '', /EACCES/);
    assert.equal(row(missing).attempt, 1);
  });

  test('a script that does not read stdin is fine even with a large event', async () => {
    const event = makeEvent('s1', 'event', { percentUsed: 95, note: 'y'.repeat(512 * 1024) });
    const r = only(emit(event, { run: script('ignore.sh', 'exit 0'), timeout: '10s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.equal(row(r).status, 'ok');
    assert.equal(row(r).error, null);
    assert.equal(row(r).stderr, '');
  });

  test('a script that leaves a background process holding its output still finishes', async () => {
    const run = script('daemonize.sh', 'sleep 100 &\necho $! > "$1/bg.tmp" && mv "$1/bg.tmp" "$1/bg"\necho started');
    const r = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '60s' }));
    const d = dispatcher();
    d.start();
    await d.idle();
    fx.leftovers.push(Number(readFileSync(join(fx.dir, 'bg'), 'utf8')));
    assert.equal(row(r).status, 'ok');
    assert.equal(row(r).stdout, 'started\n');
  });

  test('a slow script of one subscription does not delay another subscription', async () => {
    const slow = script('slow.sh', 'touch "$1/a-started"\nwhile [ ! -e "$1/release-a" ]; do sleep 0.02; done');
    const fast = script('fast.sh', 'touch "$1/b-done"');
    const a = only(emit(makeEvent('A'), { run: slow, args: [fx.dir], timeout: '60s' }));
    const b = only(emit(makeEvent('B'), { run: fast, args: [fx.dir], timeout: '60s' }));
    const d = dispatcher();
    d.start();
    await waitFor('B to finish', () => row(b).status === 'ok', DEADLINE_MS);
    assert.equal(row(a).status, 'running');
    assert.ok(existsSync(join(fx.dir, 'a-started')));
    writeFileSync(join(fx.dir, 'release-a'), '');
    await d.idle();
    assert.equal(row(a).status, 'ok');
  });

  test('runs of one subscription are serial and in row order, across event and rearm and kicks', async () => {
    const log = join(fx.dir, 'log');
    const step = script('step.sh', [
      'if ! mkdir "$1/lock" 2>/dev/null; then echo overlap >> "$1/log"; fi',
      'echo "start $EVENTD_EVENT_ID $EVENTD_EVENT_TYPE $2" >> "$1/log"',
      'sleep 0.05',
      'echo "end $EVENTD_EVENT_ID $2" >> "$1/log"',
      'rmdir "$1/lock"',
    ].join('\n'));
    const d = dispatcher();
    d.start();
    const e1 = makeEvent('s1', 'event');
    emit(e1, { run: step, args: [fx.dir, 'a0'], timeout: '10s' }, { run: step, args: [fx.dir, 'a1'], timeout: '10s' });
    d.kick();
    const e2 = makeEvent('s1', 'rearm');
    emit(e2, { run: step, args: [fx.dir, 'a0'], timeout: '10s' });
    d.kick();
    const e3 = makeEvent('s1', 'event');
    emit(e3, { run: step, args: [fx.dir, 'a0'], timeout: '10s' });
    d.kick();
    await d.idle();
    assert.deepEqual(readFileSync(log, 'utf8').trimEnd().split('\n'), [
      `start ${e1.id} event a0`, `end ${e1.id} a0`,
      `start ${e1.id} event a1`, `end ${e1.id} a1`,
      `start ${e2.id} rearm a0`, `end ${e2.id} a0`,
      `start ${e3.id} event a0`, `end ${e3.id} a0`,
    ]);
    assert.ok(fx.runs.list({ subscription: 's1', limit: 10 }).every((run) => run.status === 'ok'));
  });

  test('never more than `concurrency` scripts at once', async () => {
    const step = script('one-at-a-time.sh', [
      'if ! mkdir "$1/lock" 2>/dev/null; then echo overlap >> "$1/log"; exit 0; fi',
      'sleep 0.05',
      'echo "done $EVENTD_SUBSCRIPTION_ID" >> "$1/log"',
      'rmdir "$1/lock"',
    ].join('\n'));
    for (const sub of ['A', 'B', 'C', 'D']) emit(makeEvent(sub), { run: step, args: [fx.dir], timeout: '10s' });
    const d = dispatcher({ concurrency: 1 });
    d.start();
    await d.idle();
    // Oldest row first when several subscriptions are ready.
    assert.deepEqual(readFileSync(join(fx.dir, 'log'), 'utf8').trimEnd().split('\n'), ['done A', 'done B', 'done C', 'done D']);
  });

  test('a run left running by a dead daemon is run again at start, with attempt 2', async () => {
    const run = script('attempt.sh', 'echo "$EVENTD_ACTION_ATTEMPT $EVENTD_EVENT_ID" >> "$1/attempts"');
    const r = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '10s' }));
    fx.runs.markStarted(r.id, Date.now()); // the old daemon marked it started, then died
    assert.equal(row(r).status, 'running');
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(r);
    assert.equal(done.status, 'ok');
    assert.equal(done.attempt, 2);
    assert.equal(readFileSync(join(fx.dir, 'attempts'), 'utf8'), `2 ${r.eventId}\n`);
  });

  test('stop() kills runs past the grace and leaves them running; the next start runs them again', async () => {
    const run = script('first-hangs.sh', [
      'echo "$EVENTD_EVENT_ID $EVENTD_ACTION_ATTEMPT" >> "$1/attempts"',
      '# only the very first run hangs',
      'if [ ! -e "$1/pid" ]; then echo $$ > "$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid"; sleep 100 & wait; fi',
    ].join('\n'));
    const hung = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '60s' }));
    const queued = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '60s' }));
    const first = dispatcher();
    first.start();
    await waitFor('the first run to start', () => existsSync(join(fx.dir, 'pid')), DEADLINE_MS);
    const pid = Number(readFileSync(join(fx.dir, 'pid'), 'utf8'));
    fx.leftovers.push(pid);
    await first.stop(50);
    await first.idle();
    assert.equal(row(hung).status, 'running');
    assert.equal(row(queued).status, 'pending');
    await waitFor('the killed script to be gone', () => processGone(pid), DEADLINE_MS);
    first.kick(); // ignored once stopped
    assert.equal(row(queued).status, 'pending');

    const second = dispatcher();
    second.start();
    await second.idle();
    assert.deepEqual(readFileSync(join(fx.dir, 'attempts'), 'utf8').trimEnd().split('\n'), [
      `${hung.eventId} 1`, `${hung.eventId} 2`, `${queued.eventId} 1`,
    ]);
    assert.equal(row(hung).status, 'ok');
    assert.equal(row(hung).attempt, 2);
    assert.equal(row(queued).status, 'ok');
    assert.equal(row(queued).attempt, 1);
  });

  test('stop() waits for runs that end within the grace and records them', async () => {
    const run = script('short.sh', 'touch "$1/started"\nwhile [ ! -e "$1/go" ]; do sleep 0.02; done');
    const r = only(emit(makeEvent('s1'), { run, args: [fx.dir], timeout: '60s' }));
    const d = dispatcher();
    d.start();
    await waitFor('the run to start', () => existsSync(join(fx.dir, 'started')), DEADLINE_MS);
    const stopped = d.stop(DEADLINE_MS);
    writeFileSync(join(fx.dir, 'go'), '');
    await stopped;
    assert.equal(row(r).status, 'ok');
  });

  test('a run whose event is gone is recorded failed, not thrown', async () => {
    fx.runs.enqueue({ eventId: 'n9:1', subscription: 's1', actionIndex: 0, response: null, spec: { run: script('never.sh', 'exit 0'), timeout: '10s', on: ['event'] }, node: 'n1' }, Date.now());
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = only(fx.runs.list({ eventId: 'n9:1', limit: 10 }));
    assert.equal(done.status, 'failed');
    assert.match(done.error ?? '', /not found/);
  });

  test('runs and failures are counted by status', async () => {
    emit(makeEvent('ok'), { run: script('ok.sh', 'exit 0'), timeout: '10s' });
    emit(makeEvent('bad'), { run: script('bad.sh', 'exit 1'), timeout: '10s' });
    emit(makeEvent('slow'), { run: script('slow.sh', 'sleep 100 & wait'), timeout: '100ms' });
    emit(makeEvent('gone'), { run: join(fx.dir, 'missing'), timeout: '10s' });
    const d = dispatcher();
    d.start();
    await d.idle();
    const runs = await fx.metrics.actionRuns.get();
    const byStatus = Object.fromEntries(runs.values.map((v) => [v.labels.status, v.value]));
    assert.deepEqual(byStatus, { ok: 1, failed: 2, timeout: 1 });
    const failures = await fx.metrics.actionFailures.get();
    assert.equal(failures.values[0]?.value, 3);
  });
});

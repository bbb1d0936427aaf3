// Every action kind through the outbox, against real receivers in the test
// process: a webhook receiver (node:http) that fails the first deliveries, an
// SMTP server (smtp-server), scripts with an expected exit code. Retries,
// their audit, order per subscription, and what is refused for good.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ActionDispatcher } from '../services/eventd/actions/index.js';
import type { SmtpSettings } from '../services/eventd/actions/email.js';
import type { RetryPolicy } from '../services/eventd/actions/retry.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { ActionRunStore, type ActionRun } from '../services/eventd/store/action-runs.js';
import { openDb, type Db } from '../services/eventd/store/db.js';
import { EventStore } from '../services/eventd/store/events.js';
import type { ActionSpec, EventRecord } from '../services/eventd/types.js';
import { MailReceiver, WebhookReceiver, decodeQuotedPrintable } from './helpers/receivers.js';
import { waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 20_000;
const fastRetry: RetryPolicy = { maxAttempts: 5, maxAgeMs: 60_000, initialBackoffMs: 20, maxBackoffMs: 80 };

interface Fixture {
  dir: string;
  db: Db;
  runs: ActionRunStore;
  events: EventStore;
  seq: number;
  /** Stopped in reverse order of start, before the folder is removed. */
  stops: (() => Promise<void>)[];
}

let fx: Fixture;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-delivery-'));
  const db = openDb(join(dir, 'data'));
  fx = { dir, db, runs: new ActionRunStore(db), events: new EventStore(db), seq: 0, stops: [] };
});

afterEach(async () => {
  for (const stop of fx.stops.reverse()) await stop();
  fx.db.close();
  rmSync(fx.dir, { recursive: true, force: true });
});

function dispatcher(options: { retry?: Partial<RetryPolicy>; smtp?: SmtpSettings; concurrency?: number } = {}): ActionDispatcher {
  const d = new ActionDispatcher({
    runs: fx.runs, events: fx.events, logger: silentLogger(), metrics: createMetrics(), concurrency: options.concurrency ?? 16, outputLimitBytes: 4096,
    retry: { ...fastRetry, ...options.retry }, ...(options.smtp === undefined ? {} : { smtp: options.smtp }), fatal: (error) => { throw error; },
  });
  fx.stops.push(() => d.stop(0));
  return d;
}

async function receiver(options: ConstructorParameters<typeof WebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(options).start();
  fx.stops.push(() => r.stop());
  return r;
}

function makeEvent(subscription: string): EventRecord {
  const seq = ++fx.seq;
  return {
    id: `n1:${seq}`, origin: 'n1', seq, hlc: `h-${seq}`, type: 'event', subscription, subscriptionName: `${subscription}-name`,
    class: 'FileSystem', resource: '/dev/sda2', node: 'n1', expr: 'percentUsed > 90', attrs: { percentUsed: 91 + seq }, time: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, seq)).toISOString(),
  };
}

function emit(event: EventRecord, ...specs: ActionSpec[]): ActionRun[] {
  fx.db.transaction(() => {
    fx.events.append(event);
    specs.forEach((spec, index) => fx.runs.enqueue({ eventId: event.id, subscription: event.subscription, actionIndex: index, response: 'page-oncall', spec, node: 'n1' }, Date.now()));
  })();
  return fx.runs.list({ eventId: event.id, limit: 100 }).reverse();
}

function row(run: ActionRun): ActionRun {
  const current = fx.runs.get(run.id);
  assert.ok(current);
  return current;
}

const webhook = (url: string, extra: Partial<ActionSpec> = {}): ActionSpec => ({ webhook: { url, method: 'POST', headers: { authorization: 'Bearer s3cret' } }, timeout: '5s', on: ['event', 'rearm'], ...extra });

describe('webhook actions', () => {
  test('a receiver failing the first two deliveries gets exactly one accepted delivery per event, with its Idempotency-Key, in order', async () => {
    const hook = await receiver({ failFirst: 2 });
    const events = [makeEvent('s1'), makeEvent('s1'), makeEvent('s1')];
    const runs = events.map((event) => emit(event, webhook(hook.url))[0] as ActionRun);
    const d = dispatcher();
    d.start();
    await d.idle();

    assert.deepEqual(hook.accepted, events.map((e) => e.id));
    assert.equal(hook.duplicates, 0);
    for (const [i, event] of events.entries()) assert.deepEqual(JSON.parse(hook.acceptedBodies.get(event.id) ?? ''), event, `body of ${i}`);
    // One subscription's runs in order: no delivery of event 2 before event 1 was accepted.
    const firstOf = (key: string) => hook.deliveries.findIndex((delivery) => delivery.key === key);
    const acceptedAt = (key: string) => hook.deliveries.findIndex((delivery) => delivery.key === key && delivery.status === 200);
    assert.ok(acceptedAt(events[0]!.id) < firstOf(events[1]!.id) && acceptedAt(events[1]!.id) < firstOf(events[2]!.id), 'in order');
    for (const run of runs) {
      const done = row(run);
      assert.equal(done.status, 'ok');
      assert.equal(done.attempt, 3);
      assert.equal(done.httpStatus, 200);
      assert.deepEqual(fx.runs.attempts(run.id).map((a) => [a.attempt, a.status, a.httpStatus]), [[1, 'failed', 503], [2, 'failed', 503], [3, 'ok', 200]]);
      assert.match(fx.runs.attempts(run.id)[0]?.error ?? '', /HTTP 503/);
    }
  });

  test('the headers given are sent, besides content-type and Idempotency-Key', async () => {
    const { createServer } = await import('node:http');
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((request, response) => { seen.push(request.headers); request.resume(); request.on('end', () => response.end('ok')); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fx.stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const event = makeEvent('s1');
    emit(event, webhook(`http://127.0.0.1:${address.port}/x`, {}));
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.authorization, 'Bearer s3cret');
    assert.equal(seen[0]?.['idempotency-key'], event.id);
    assert.equal(seen[0]?.['content-type'], 'application/json');
  });

  test('a 4xx answer is not retried: the run is failed, reason rejected, after one attempt', async () => {
    const hook = await receiver({ failFirst: 10, failStatus: 422 });
    const run = emit(makeEvent('s1'), webhook(hook.url))[0] as ActionRun;
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(run);
    assert.deepEqual([done.status, done.attempt, done.httpStatus, done.reason], ['failed', 1, 422, 'rejected']);
    assert.equal(hook.deliveries.length, 1);
  });

  test('no answer within the timeout is a timeout, retried until maxAttempts, then given up', async () => {
    const hook = await receiver({ delayMs: 2000 });
    const run = emit(makeEvent('s1'), webhook(hook.url, { timeout: '100ms', maxAttempts: 2 }))[0] as ActionRun;
    const d = dispatcher();
    d.start();
    await d.idle();
    const done = row(run);
    assert.deepEqual([done.status, done.attempt, done.reason], ['timeout', 2, 'gave-up']);
    assert.match(done.detail ?? '', /after 2 attempts/);
    assert.deepEqual(fx.runs.attempts(run.id).map((a) => a.status), ['timeout', 'timeout']);
  });

  test('a receiver that is down holds back its subscription only; another subscription is delivered meanwhile', async () => {
    const hook = await receiver();
    hook.down = true;
    const other = await receiver();
    const stuck = emit(makeEvent('A'), webhook(hook.url))[0] as ActionRun;
    const behind = emit(makeEvent('A'), webhook(hook.url))[0] as ActionRun;
    const free = emit(makeEvent('B'), webhook(other.url))[0] as ActionRun;
    const d = dispatcher({ retry: { maxAttempts: 1000, initialBackoffMs: 10, maxBackoffMs: 30 } });
    d.start();
    await waitFor('B delivered', () => row(free).status === 'ok', DEADLINE_MS);
    await waitFor('A retried a few times', () => row(stuck).attempt >= 3, DEADLINE_MS);
    assert.equal(row(stuck).status === 'retrying' || row(stuck).status === 'running', true);
    assert.equal(row(behind).status, 'pending');
    assert.equal(row(behind).attempt, 0);
    hook.down = false;
    await d.idle();
    assert.deepEqual(hook.accepted, [stuck.eventId, behind.eventId]);
  });

  test('one subscription\'s runs never overlap, though other subscriptions\' deliveries end (and the dispatcher steps) meanwhile', async () => {
    // The receiver counts deliveries in flight per subscription; A's answers are slow, B's fast, so B's many steps come while an A is in flight.
    const inFlight = new Map<string, number>();
    const overlaps: string[] = [];
    const order: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); }).on('end', () => {
        const event = JSON.parse(body) as EventRecord;
        const now = (inFlight.get(event.subscription) ?? 0) + 1;
        inFlight.set(event.subscription, now);
        if (now > 1) overlaps.push(`${event.subscription} ${event.id}`);
        if (event.subscription === 'A') order.push(event.id);
        setTimeout(() => {
          inFlight.set(event.subscription, (inFlight.get(event.subscription) ?? 1) - 1);
          response.end('ok');
        }, event.subscription === 'A' ? 60 : 2);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fx.stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const a = Array.from({ length: 4 }, () => emit(makeEvent('A'), webhook(url))[0] as ActionRun);
    const b = Array.from({ length: 40 }, () => emit(makeEvent('B'), webhook(url))[0] as ActionRun);
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.deepEqual(overlaps, []);
    assert.deepEqual(order, a.map((run) => run.eventId));
    for (const run of [...a, ...b]) assert.equal(row(run).status, 'ok');
  });

  test('a run waiting for its retry survives a restart of the dispatcher and is delivered by the next one', async () => {
    const hook = await receiver({ failFirst: 1 });
    const run = emit(makeEvent('s1'), webhook(hook.url))[0] as ActionRun;
    const first = dispatcher({ retry: { initialBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    first.start();
    await waitFor('the first attempt failed and a retry is scheduled', () => row(run).status === 'retrying', DEADLINE_MS);
    await first.stop(0);
    assert.ok((row(run).nextAt ?? 0) > Date.now() + 10_000);
    // The next daemon's policy is its own; the row's next_at is honoured: pull it in, as time passing would.
    fx.db.prepare('UPDATE action_runs SET next_at = ? WHERE id = ?').run(Date.now(), run.id);
    const second = dispatcher();
    second.start();
    await second.idle();
    assert.deepEqual([row(run).status, row(run).attempt], ['ok', 2]);
    assert.deepEqual(hook.accepted, [run.eventId]);
  });
});

describe('e-mail actions', () => {
  test('the SMTP server receives one message with the event in it; the audit keeps the SMTP reply', async () => {
    const mail = await new MailReceiver().start();
    fx.stops.push(() => mail.stop());
    const event = makeEvent('s1');
    const run = emit(event, { email: { to: ['oncall@example.com', 'ops@example.com'] }, timeout: '10s', on: ['event'] })[0] as ActionRun;
    const d = dispatcher({ smtp: { url: mail.url, from: 'eventd@example.com' } });
    d.start();
    await d.idle();
    const done = row(run);
    assert.equal(done.status, 'ok', done.error ?? '');
    assert.match(done.smtpReply ?? '', /^250 /);
    assert.equal(mail.messages.length, 1);
    const message = mail.messages[0]!;
    assert.equal(message.from, 'eventd@example.com');
    assert.deepEqual(message.to, ['oncall@example.com', 'ops@example.com']);
    assert.match(message.raw, /^Subject: \[eventd\] event s1-name: FileSystem \/dev\/sda2 on n1$/m);
    assert.match(message.raw, new RegExp(`^Message-ID: <${event.id.replace(':', ':')}\\.${run.id}@eventd>`, 'mi'));
    const text = decodeQuotedPrintable(message.raw);
    assert.ok(text.includes(`"id": "${event.id}"`), text);
    assert.ok(text.includes('"percentUsed": 92'), text);
  });

  test('a recipient refused with 550 is not retried; no SMTP server at all is retried', async () => {
    const mail = await new MailReceiver().start();
    fx.stops.push(() => mail.stop());
    mail.refuse.add('nobody@example.com');
    const refused = emit(makeEvent('s1'), { email: { to: ['nobody@example.com'] }, timeout: '10s', on: ['event'] })[0] as ActionRun;
    const d = dispatcher({ smtp: { url: mail.url, from: 'eventd@example.com' } });
    d.start();
    await d.idle();
    assert.deepEqual([row(refused).status, row(refused).attempt, row(refused).reason], ['failed', 1, 'rejected']);
    assert.match(row(refused).smtpReply ?? '', /^550 /);

    const port = mail.port;
    await mail.stop();
    const unreachable = emit(makeEvent('s2'), { email: { to: ['oncall@example.com'] }, timeout: '2s', on: ['event'], maxAttempts: 2 })[0] as ActionRun;
    const d2 = dispatcher({ smtp: { url: `smtp://127.0.0.1:${port}`, from: 'eventd@example.com' } });
    d2.start();
    await d2.idle();
    assert.deepEqual([row(unreachable).status, row(unreachable).attempt, row(unreachable).reason], ['failed', 2, 'gave-up']);
    assert.match(row(unreachable).error ?? '', /ECONNREFUSED/);
  });

  test('without smtp in the config an e-mail action fails at once, saying what is missing', async () => {
    const run = emit(makeEvent('s1'), { email: { to: ['oncall@example.com'] }, timeout: '10s', on: ['event'] })[0] as ActionRun;
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.deepEqual([row(run).status, row(run).attempt, row(run).reason], ['failed', 1, 'rejected']);
    assert.match(row(run).error ?? '', /"smtp"/);
  });
});

describe('script actions', () => {
  function script(name: string, body: string): string {
    const path = join(fx.dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  test('expectedExit: the code given is success; 0 is then a failure, retried like any failure', async () => {
    const three = emit(makeEvent('s1'), { run: script('three.sh', 'exit 3'), expectedExit: 3, timeout: '10s', on: ['event'] })[0] as ActionRun;
    const zero = emit(makeEvent('s2'), { run: script('zero.sh', 'echo "$EVENTD_ACTION_ATTEMPT" >> "$0.attempts"; exit 0'), expectedExit: 3, timeout: '10s', on: ['event'], maxAttempts: 3 })[0] as ActionRun;
    const d = dispatcher();
    d.start();
    await d.idle();
    assert.deepEqual([row(three).status, row(three).exitCode], ['ok', 3]);
    assert.deepEqual([row(zero).status, row(zero).exitCode, row(zero).attempt, row(zero).reason], ['failed', 0, 3, 'gave-up']);
    assert.deepEqual(fx.runs.attempts(zero.id).map((a) => [a.status, a.exitCode]), [['failed', 0], ['failed', 0], ['failed', 0]]);
  });
});

describe('batching (ERRM -b)', () => {
  const batched = (url: string, interval: string, maxEvents: number): ActionSpec => ({ ...webhook(url), batch: { interval, maxEvents } });

  test('by count: maxEvents events go as one array; the members are audited batched into the carrier run', async () => {
    const hook = await receiver();
    const events = Array.from({ length: 7 }, () => makeEvent('s1'));
    const runs = events.map((event) => emit(event, batched(hook.url, '300ms', 3))[0] as ActionRun);
    const d = dispatcher();
    d.start();
    await d.idle();
    const bodies = hook.deliveries.map((delivery) => JSON.parse(delivery.body) as EventRecord[]);
    assert.deepEqual(bodies.map((body) => body.map((event) => event.id)), [events.slice(0, 3), events.slice(3, 6), events.slice(6)].map((part) => part.map((e) => e.id)));
    assert.deepEqual(hook.accepted, [events[0]!.id, events[3]!.id, events[6]!.id]); // Idempotency-Key: the batch's first event
    assert.deepEqual(runs.map((run) => row(run).status), ['ok', 'skipped', 'skipped', 'ok', 'skipped', 'skipped', 'ok']);
    assert.deepEqual(row(runs[1]!).batch, null);
    assert.deepEqual([row(runs[1]!).reason, row(runs[1]!).detail], ['batched', `in run ${runs[0]!.id}`]);
    assert.deepEqual(row(runs[3]!).batch, events.slice(3, 6).map((e) => e.id));
  });

  test('by interval: events that come within it wait for each other and leave as one array', async () => {
    const hook = await receiver();
    const d = dispatcher();
    d.start();
    const first = makeEvent('s1');
    emit(first, batched(hook.url, '400ms', 100));
    d.kick();
    const second = makeEvent('s1');
    emit(second, batched(hook.url, '400ms', 100));
    d.kick();
    await d.idle();
    assert.equal(hook.deliveries.length, 1);
    assert.deepEqual((JSON.parse(hook.deliveries[0]!.body) as EventRecord[]).map((e) => e.id), [first.id, second.id]);
  });

  test('a batch to a script gets the array on stdin and EVENTD_BATCH_SIZE; a batch e-mail is one message', async () => {
    const mail = await new MailReceiver().start();
    fx.stops.push(() => mail.stop());
    const out = join(fx.dir, 'stdin.json');
    const path = join(fx.dir, 'batch.sh');
    writeFileSync(path, `#!/bin/sh\necho "$EVENTD_BATCH_SIZE" > "${out}.size"\ncat > "${out}"\n`);
    chmodSync(path, 0o755);
    const events = [makeEvent('s1'), makeEvent('s1')];
    for (const event of events) {
      emit(event, { run: path, timeout: '10s', on: ['event'], batch: { interval: '10s', maxEvents: 2 } }, { email: { to: ['ops@example.com'] }, timeout: '10s', on: ['event'], batch: { interval: '10s', maxEvents: 2 } });
    }
    const d = dispatcher({ smtp: { url: mail.url, from: 'eventd@example.com' } });
    d.start();
    await d.idle();
    const { readFileSync } = await import('node:fs');
    assert.deepEqual((JSON.parse(readFileSync(out, 'utf8')) as EventRecord[]).map((e) => e.id), events.map((e) => e.id));
    assert.equal(readFileSync(`${out}.size`, 'utf8').trim(), '2');
    assert.equal(mail.messages.length, 1);
    assert.match(mail.messages[0]!.raw, /^Subject: \[eventd\] 2 events of s1-name$/m);
  });
});

// Webhook responses through the outbox: 10,000 events to a receiver that
// answers after 5 ms, through the real event log, SQLite outbox and
// dispatcher; printed beside plain fetch() POSTs to the same receiver at the
// same concurrency (no store, no audit: the ceiling). Then the receiver is
// down for 30 s while events keep coming: nothing may be lost, and each
// subscription's backlog must reach the receiver in event order.
// `--quick`: 2,000 events and a 5 s outage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionDispatcher } from '../services/eventd/actions/index.js';
import { EventFeed } from '../services/eventd/event-feed.js';
import { EventLog, LocalRecorder, type EventDraft, type EventOwner } from '../services/eventd/log/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { openDb } from '../services/eventd/store/db.js';
import { Store } from '../services/eventd/store/index.js';
import { WebhookReceiver } from '../test/helpers/receivers.js';
import { installCleanupHandlers, onCleanup, runCleanup } from './lib/cleanup.js';
import { countCommits, type CommitCounter } from './lib/commit-counter.js';
import { ms, num, percentile } from './lib/stats.js';
import { comparisonTable } from './lib/table.js';

const quick = process.argv.includes('--quick');
const eventCount = Number(process.env.BENCH_EVENTS ?? (quick ? 2000 : 10_000));
const outageMs = Number(process.env.BENCH_OUTAGE_MS ?? (quick ? 5000 : 30_000));
const subscriptionCount = 10;
const concurrency = 16; // config actions.concurrency default
const receiverDelayMs = 5;
const batchSize = 100; // events per transaction, as a producer's sample batch commits them

installCleanupHandlers();

function owners(url: string): EventOwner[] {
  return Array.from({ length: subscriptionCount }, (_, i) => ({
    id: `sub${i}`, scope: 'local' as const, order: 'fifo' as const, node: 'bench',
    actions: [{ webhook: { url, method: 'POST' }, timeout: '10s', on: ['event', 'rearm'] }],
  }));
}

function draft(owner: EventOwner, n: number): EventDraft {
  return {
    type: 'event', subscription: owner.id, subscriptionName: owner.id, class: 'FileSystem', resource: `/dev/disk${n}`, node: 'bench',
    expr: 'percentUsed > 90', attrs: { percentUsed: 91, usedKiB: n }, time: new Date().toISOString(),
  };
}

interface Rig {
  store: Store;
  log: EventLog;
  recorder: LocalRecorder;
  dispatcher: ActionDispatcher;
  /** Every commit of the store; `appends` of them are the bench's own event batches. */
  commits: CommitCounter;
  appends: number;
  appendedAt: Map<string, number>;
  /** Event ids per subscription, in append order. */
  order: Map<string, string[]>;
}

function rig(dir: string, retry: { initialBackoffMs: number; maxBackoffMs: number }): Rig {
  // Counted from the first statement on, so the outbox's prepared statements are too.
  const db = openDb(dir);
  const commits = countCommits(db);
  const store = new Store(db);
  const metrics = createMetrics();
  const dispatcher = new ActionDispatcher({
    runs: store.actionRuns, events: store.events, logger: silentLogger(), metrics, concurrency, outputLimitBytes: 4096,
    retry: { maxAttempts: 1000, maxAgeMs: 3_600_000, ...retry }, fatal: (error) => { throw error; },
  });
  const log = new EventLog({ store, metrics, feed: new EventFeed(), onActionsQueued: () => dispatcher.kick(), fatal: (error) => { throw error; } });
  return { store, log, recorder: new LocalRecorder(store, log, 'bench'), dispatcher, commits, appends: 0, appendedAt: new Map(), order: new Map() };
}

function append(r: Rig, subs: EventOwner[], from: number, count: number): void {
  r.appends++;
  r.log.transaction('bench events', () => {
    for (let n = from; n < from + count; n++) {
      const owner = subs[n % subs.length]!;
      const id = r.recorder.record(draft(owner, n), owner);
      r.appendedAt.set(id, Date.now());
      const list = r.order.get(owner.id) ?? [];
      list.push(id);
      r.order.set(owner.id, list);
    }
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

class MemoryPeak {
  rss = 0;
  heap = 0;
  private readonly timer = setInterval(() => this.sample(), 50);
  sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.heap = Math.max(this.heap, usage.heapUsed);
  }
  stop(): void { clearInterval(this.timer); this.sample(); }
}

/** The same deliveries without eventd: fetch() with `concurrency` in flight. */
async function baseline(url: string, count: number): Promise<{ perS: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = Date.now();
  const body = JSON.stringify(draft(owners(url)[0]!, 0));
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const n = next++;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `base:${n}` }, body });
      await response.text();
      // From "queued at the start" to delivered, as the burst phase measures eventd.
      latencies.push(Date.now() - started);
    }
  }));
  return { perS: count / ((Date.now() - started) / 1000), p99: percentile(latencies, 0.99) };
}

function inOrder(r: Rig, accepted: readonly string[]): { ok: boolean; detail: string } {
  const bySubscription = new Map<string, string[]>();
  for (const id of accepted) {
    for (const [sub, ids] of r.order) if (ids.includes(id)) { (bySubscription.get(sub) ?? bySubscription.set(sub, []).get(sub)!).push(id); break; }
  }
  for (const [sub, ids] of r.order) {
    const got = bySubscription.get(sub) ?? [];
    if (got.length !== ids.length || got.some((id, i) => id !== ids[i])) return { ok: false, detail: `${sub}: ${got.length} of ${ids.length}, order differs` };
  }
  return { ok: true, detail: 'every subscription in event order' };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-bench-responses-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = await new WebhookReceiver({ delayMs: receiverDelayMs }).start();
  onCleanup(() => void receiver.stop());
  console.log(`responses benchmark: ${num(eventCount)} events over ${subscriptionCount} subscriptions, receiver answering after ${receiverDelayMs} ms, concurrency ${concurrency}${quick ? ' (--quick)' : ''}\n`);

  // Baseline first, on the same receiver (then forgotten).
  const base = await baseline(receiver.url, eventCount);
  receiver.accepted.length = 0;
  receiver.acceptedBodies.clear();
  receiver.deliveries.length = 0;

  // Phase 1: a burst of events, all queued at once.
  const r = rig(join(dir, 'burst'), { initialBackoffMs: 100, maxBackoffMs: 1000 });
  const subs = owners(receiver.url);
  const memory = new MemoryPeak();
  const before = process.memoryUsage();
  r.dispatcher.start();
  const started = Date.now();
  for (let n = 0; n < eventCount; n += batchSize) append(r, subs, n, Math.min(batchSize, eventCount - n));
  await until('every delivery', () => receiver.accepted.length >= eventCount, 600_000);
  const elapsed = Date.now() - started;
  memory.stop();
  const acceptedAt = new Map(receiver.deliveries.filter((d) => d.status === 200).map((d) => [d.key, d.at]));
  const latencies = [...r.appendedAt].map(([id, at]) => (acceptedAt.get(id) ?? NaN) - at);
  const perS = eventCount / (elapsed / 1000);
  const p99 = percentile(latencies, 0.99);
  console.log(comparisonTable([
    { metric: 'deliveries per second', eventd: perS, other: base.perS, format: num },
    { metric: 'p99 event to delivery (burst)', eventd: p99, other: base.p99, format: ms },
  ], ['metric', 'eventd outbox', 'plain fetch()', 'fetch/eventd', ''], { separator: '  ', ruleSeparator: '  ' }));
  console.log(`\nmemory: peak RSS ${num(memory.rss / 2 ** 20)} MiB (at start ${num(before.rss / 2 ** 20)} MiB), peak heap ${num(memory.heap / 2 ** 20)} MiB; receiver in the same process`);
  console.log(`accepted ${num(receiver.accepted.length)} of ${num(eventCount)}, duplicates ${receiver.duplicates}; ${inOrder(r, receiver.accepted).detail}`);
  console.log(`outbox commits per delivery: ${((r.commits.count - r.appends) / eventCount).toFixed(2)} (${num(r.commits.count - r.appends)} commits besides the ${r.appends} that appended the events)`);
  await r.dispatcher.stop();
  r.store.close();

  // Phase 2: the receiver down for the outage while events keep coming.
  receiver.accepted.length = 0;
  receiver.acceptedBodies.clear();
  receiver.deliveries.length = 0;
  const port = receiver.port;
  const outage = rig(join(dir, 'outage'), { initialBackoffMs: 100, maxBackoffMs: 1000 });
  outage.dispatcher.start();
  await receiver.stop();
  const downAt = Date.now();
  const during = Math.min(eventCount, 2000);
  let sent = 0;
  while (Date.now() - downAt < outageMs) {
    const due = Math.min(during, Math.floor(((Date.now() - downAt) / outageMs) * during));
    if (due > sent) { append(outage, subs, sent, due - sent); sent = due; }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (sent < during) append(outage, subs, sent, during - sent);
  const attemptsWhileDown = (outage.store.db.prepare('SELECT COUNT(*) AS n FROM action_attempts').get() as { n: number }).n;
  await receiver.start(port);
  const upAt = Date.now();
  await until('the backlog to drain', () => receiver.accepted.length >= during, 600_000);
  const drainMs = Date.now() - upAt;
  const order = inOrder(outage, receiver.accepted);
  const lost = during - new Set(receiver.accepted).size;
  console.log(`\nreceiver down ${ms(outageMs)} while ${num(during)} events came: ${num(attemptsWhileDown)} refused attempts (the heads of ${subscriptionCount} subscriptions, backoff 100 ms..1 s)`);
  console.log(`back up: backlog drained in ${ms(drainMs)} (${num(during / (drainMs / 1000))} deliveries/s), lost ${lost}, duplicates ${receiver.duplicates}; ${order.detail}`);
  await outage.dispatcher.stop();
  outage.store.close();
  await receiver.stop();
  if (lost > 0 || !order.ok) process.exitCode = 1;
}

try {
  await main();
} finally {
  runCleanup();
}

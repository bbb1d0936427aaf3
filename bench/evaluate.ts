// Threshold evaluation throughput: 1,000 subscriptions over 1,000 resources,
// through the real evaluator and a real SQLite file, printed beside plain
// `jsonata(expr).evaluate()` over the same expressions and samples in the
// same run. A benchmark, not a test: it prints figures and ratios.
import { localEventLog } from '../test/helpers/event-log.js';
import { budgetCost } from './lib/budget-cost.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { Evaluator } from '../services/eventd/evaluation/evaluator.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { Store } from '../services/eventd/store/index.js';
import { compileSubscription } from '../services/eventd/subscriptions/compiled.js';
import { SubscriptionRegistry } from '../services/eventd/subscriptions/registry.js';
import type { Attrs, Sample, Subscription } from '../services/eventd/types.js';

const subscriptionCount = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
const resourceCount = Number(process.env.BENCH_RESOURCES ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6); // the first is an untimed warm-up
const attributes = new Set(['totalKiB', 'usedKiB', 'freeKiB', 'percentUsed', 'configured']);

/** A seeded PRNG (mulberry32), so every run sees the same samples. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic mix: plain thresholds with rearm, rates of change with $prev, `for` clauses, a `where`. */
function subscriptions(): Subscription[] {
  return Array.from({ length: subscriptionCount }, (_, i) => {
    const threshold = 50 + (i % 40);
    const base = { id: `s${i}`, name: `s${i}`, class: 'PagingSpace', scope: 'local' as const, order: 'fifo' as const, actions: [], node: 'bench', createdAt: new Date(0).toISOString() };
    switch (i % 10) {
      case 0: return { ...base, expr: '(percentUsed - $prev.percentUsed) > 5' };
      case 1: return { ...base, expr: `percentUsed > ${threshold} and configured`, rearm: `percentUsed < ${threshold - 10}`, for: 3 };
      case 2: return { ...base, expr: `usedKiB > totalKiB * ${threshold / 100}`, rearm: `usedKiB < totalKiB * ${(threshold - 10) / 100}` };
      case 3: return { ...base, expr: `percentUsed > ${threshold}`, where: '$resource != "total"' };
      default: return { ...base, expr: `percentUsed > ${threshold}`, rearm: `percentUsed < ${threshold - 10}` };
    }
  });
}

function sampleRounds(): Sample[][] {
  const random = prng(42);
  const percent = Array.from({ length: resourceCount }, () => random() * 100);
  return Array.from({ length: rounds }, (_, round) =>
    percent.map((value, r) => {
      const next = Math.min(100, Math.max(0, value + (random() - 0.5) * 4));
      percent[r] = next;
      const totalKiB = 1_048_576;
      const usedKiB = Math.round((totalKiB * next) / 100);
      return { class: 'PagingSpace', resource: `/dev/swap${r}`, node: 'bench', time: 1_700_000_000_000 + round * 1000, attrs: { totalKiB, usedKiB, freeKiB: totalKiB - usedKiB, percentUsed: Math.round(next * 100) / 100, configured: true } };
    }),
  );
}

async function benchEventd(subs: Subscription[], batches: Sample[][]) {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-bench-'));
  const store = Store.open(dir);
  const registry = new SubscriptionRegistry({ onClassNeeded: () => {}, onClassIdle: () => {} });
  for (const sub of subs) registry.add(compileSubscription(sub, attributes));
  const metrics = createMetrics();
  let events = 0;
  const { log, recorder, feed } = localEventLog(store, metrics, 'bench');
  feed.on('events', (items) => (events += items.length));
  const evaluator = new Evaluator({ node: 'bench', store, registry, metrics, logger: silentLogger(), log, recorder });
  // The first round arms or fires every (subscription, resource): a cold-start
  // flood of events. It is not timed; the rounds after it are steady state.
  const [warmup, ...timed] = batches;
  await evaluator.submit('PagingSpace', warmup as Sample[]);
  const warmupEvents = events;
  const evaluationsBefore = await evaluationCount(metrics);
  const started = process.hrtime.bigint();
  for (const batch of timed) await evaluator.submit('PagingSpace', batch);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const evaluations = (await evaluationCount(metrics)) - evaluationsBefore;
  events -= warmupEvents;
  const fast = registry.all().filter((c) => c.expr.fast).length;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { seconds, evaluations, events, fast };
}

async function evaluationCount(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  return (await metrics.evaluations.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function benchJsonata(subs: Subscription[], batches: Sample[][]) {
  const compiled = subs.map((sub) => jsonata(sub.expr));
  const previous = new Map<string, Attrs>();
  let evaluations = 0;
  let started = process.hrtime.bigint();
  for (const [round, batch] of batches.entries()) {
    if (round === 1) { started = process.hrtime.bigint(); evaluations = 0; } // the same untimed first round
    for (const sample of batch) {
      const bindings = { prev: previous.get(sample.resource), node: sample.node, resource: sample.resource, class: sample.class };
      for (const expression of compiled) {
        await expression.evaluate(sample.attrs, bindings);
        evaluations++;
      }
      previous.set(sample.resource, sample.attrs);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, evaluations };
}

const subs = subscriptions();
const batches = sampleRounds();
const samples = (rounds - 1) * resourceCount;
const ours = await benchEventd(subs, batches);
const baseline = await benchJsonata(subs, batches);

const rate = (count: number, seconds: number) => Math.round(count / seconds).toLocaleString('en-US');
console.log(`threshold evaluation: ${subscriptionCount} subscriptions x ${resourceCount} resources x ${rounds - 1} timed rounds (node ${process.version})`);
console.log(`  eventd evaluator   ${ours.seconds.toFixed(2)} s  ${rate(samples, ours.seconds)} samples/s  ${rate(ours.evaluations, ours.seconds)} evaluations/s  (${ours.events} events written, ${ours.fast}/${subscriptionCount} expressions on the fast path, SQLite commits included)`);
console.log(`  plain jsonata      ${baseline.seconds.toFixed(2)} s  ${rate(samples, baseline.seconds)} samples/s  ${rate(baseline.evaluations, baseline.seconds)} evaluations/s  (jsonata(expr) compiled once, await evaluate() per sample)`);
console.log(`  ratio              ${((ours.evaluations / ours.seconds) / (baseline.evaluations / baseline.seconds)).toFixed(1)}x evaluations/s of plain jsonata`);

// The evaluation budget's cost, in the same run (expression level, no SQLite).
const cost = await budgetCost();
const percent = (withBudget: number, without: number) => `${(((withBudget - without) / without) * 100).toFixed(1)} %`;
console.log(`evaluation budget (jsonata guardrails: time, depth, sequence), expression level, medians of ${cost.rounds.fast} (fast) and ${cost.rounds.jsonata} (jsonata) interleaved rounds:`);
console.log(`  fast path       without ${rate(cost.fast.without, 1)} evaluations/s   with ${rate(cost.fast.with, 1)} evaluations/s   (${percent(cost.fast.with, cost.fast.without)}; the fast path takes no budget)`);
console.log(`  jsonata path    without ${rate(cost.jsonata.without, 1)} evaluations/s   with ${rate(cost.jsonata.with, 1)} evaluations/s   (${percent(cost.jsonata.with, cost.jsonata.without)})`);
console.log(`  worker thread   ${rate(cost.workerRoundTrip, 1)} evaluations/s, one per round trip (the least a worker with a deadline would cost: ${(cost.jsonata.with / cost.workerRoundTrip).toFixed(1)}x slower than the guardrails)`);

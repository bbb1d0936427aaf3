// The cost of the evaluation budget (services/eventd/expression/budget.ts):
// fast-path and jsonata-path expressions evaluated with and without it, in
// the same run, rounds interleaved so machine load falls on both alike; and,
// for the choice of hooks over a worker, one evaluation per worker round trip.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { compileExpression } from '../../services/eventd/expression/index.js';
import { defaultBudget } from '../../services/eventd/expression/budget.js';
import type { CompiledExpression } from '../../services/eventd/expression/index.js';
import type { Attrs } from '../../services/eventd/types.js';
import { median } from './stats.js';

const attributes = new Set(['totalKiB', 'usedKiB', 'freeKiB', 'percentUsed', 'configured']);

/** Inside the fast path's subset. */
const fastSources = ['percentUsed > 75', '(percentUsed - $prev.percentUsed) > 5', 'usedKiB > totalKiB * 0.9 and configured', 'percentUsed > 50 ? true : false'];
/** Outside it: jsonata itself evaluates these. */
const jsonataSources = ['$abs(percentUsed - $prev.percentUsed) > 5', '$max([percentUsed, 10]) > 75', '$resource in ["/dev/swap1", "/dev/swap2"] and percentUsed > 50', '$round(usedKiB / totalKiB * 100) > 75'];

function samples(count: number): { attrs: Attrs; prev: Attrs; resource: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const percentUsed = (i * 37) % 100;
    const attrs = { totalKiB: 1000, usedKiB: percentUsed * 10, freeKiB: 1000 - percentUsed * 10, percentUsed, configured: true };
    return { attrs, prev: { ...attrs, percentUsed: (percentUsed + 3) % 100 }, resource: `/dev/swap${i % 8}` };
  });
}

/** The evaluator's way: synchronous answers are not awaited. */
async function fastRate(expressions: CompiledExpression[], batch: ReturnType<typeof samples>): Promise<number> {
  const started = process.hrtime.bigint();
  let count = 0;
  for (const sample of batch) {
    const bindings = { prev: sample.prev, node: 'bench', resource: sample.resource, class: 'PagingSpace' };
    for (const expression of expressions) {
      const result = expression.evaluate(sample.attrs, bindings);
      if (result instanceof Promise) await result;
      count++;
    }
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function jsonataRate(expressions: CompiledExpression[], batch: ReturnType<typeof samples>): Promise<number> {
  const started = process.hrtime.bigint();
  let count = 0;
  for (const sample of batch) {
    const bindings = { prev: sample.prev, node: 'bench', resource: sample.resource, class: 'PagingSpace' };
    for (const expression of expressions) {
      await expression.evaluate(sample.attrs, bindings);
      count++;
    }
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

export interface BudgetCost {
  rounds: { fast: number; jsonata: number };
  fast: { without: number; with: number };
  jsonata: { without: number; with: number };
  /** One jsonata evaluation per round trip to a worker thread (what a worker with a deadline would cost at least). */
  workerRoundTrip: number;
}

export async function budgetCost(): Promise<BudgetCost> {
  // The fast path is ~100x quicker: more evaluations and more rounds for a steady median on a shared machine.
  const plan = { fast: { rounds: 21, batch: samples(50_000) }, jsonata: { rounds: 9, batch: samples(5_000) } };
  const compile = (sources: string[], budgeted: boolean) => sources.map((source) => compileExpression(source, 'expr', attributes, budgeted ? defaultBudget : undefined));
  const sets = {
    fastWithout: compile(fastSources, false), fastWith: compile(fastSources, true),
    jsonataWithout: compile(jsonataSources, false), jsonataWith: compile(jsonataSources, true),
  };
  if (!sets.fastWith.every((e) => e.fast) || sets.jsonataWith.some((e) => e.fast)) throw new Error('bench: the expression sets are not on the paths they claim');
  const figures = { fastWithout: [] as number[], fastWith: [] as number[], jsonataWithout: [] as number[], jsonataWith: [] as number[] };
  // Each path on its own (its own copy of the loop, so one path's JIT profile does not slow the other),
  // with and without the budget alternating, which goes first swapped each round.
  for (const [path, without, withBudget, measure] of [['fast', 'fastWithout', 'fastWith', fastRate], ['jsonata', 'jsonataWithout', 'jsonataWith', jsonataRate]] as const) {
    const { rounds, batch } = plan[path];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [without, withBudget] : [withBudget, without];
      for (const key of order) {
        const rate = await measure(sets[key], batch);
        if (round > 0) figures[key].push(rate); // round 0 warms up
      }
    }
  }
  return {
    rounds: { fast: plan.fast.rounds - 1, jsonata: plan.jsonata.rounds - 1 },
    fast: { without: median(figures.fastWithout), with: median(figures.fastWith) },
    jsonata: { without: median(figures.jsonataWithout), with: median(figures.jsonataWith) },
    workerRoundTrip: await workerRate(2_000),
  };
}

/** A worker that evaluates one jsonata expression per message and answers. */
async function workerRate(count: number): Promise<number> {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const jsonata = require(${JSON.stringify(createRequire(import.meta.url).resolve('jsonata'))});
    const expression = jsonata(${JSON.stringify(jsonataSources[0])});
    parentPort.on('message', async (sample) => parentPort.postMessage(await expression.evaluate(sample.attrs, { prev: sample.prev })));
  `;
  const worker = new Worker(source, { eval: true });
  const batch = samples(count);
  const ask = (sample: (typeof batch)[number]) => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(sample); });
  for (const sample of batch.slice(0, 200)) await ask(sample); // warm-up
  const started = process.hrtime.bigint();
  for (const sample of batch) await ask(sample);
  const rate = count / (Number(process.hrtime.bigint() - started) / 1e9);
  await worker.terminate();
  return rate;
}

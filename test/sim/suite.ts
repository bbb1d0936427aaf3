// Runs seeded random schedules and collects what the checker found, for the
// test files (which split the seeds to use both cores) and for ad-hoc runs.

import { checkTrace } from './checker.js';
import { nodesForSeed, replayCommand } from './replay.js';
import { generateSchedule } from './schedules.js';
import { runSchedule } from './simulator.js';

export interface SeedFailure {
  seed: number;
  nodes: number;
  problems: string[];
}

export function runSeeds(from: number, to: number): { failures: SeedFailure[]; ms: number } {
  const started = performance.now();
  const failures: SeedFailure[] = [];
  for (let seed = from; seed <= to; seed += 1) {
    const nodes = nodesForSeed(seed);
    let problems: string[];
    try {
      problems = checkTrace(runSchedule(generateSchedule(seed, nodes)), 5);
    } catch (error) {
      problems = [`seed ${seed}: the run threw: ${error instanceof Error ? error.stack ?? error.message : String(error)}`];
    }
    if (problems.length > 0) failures.push({ seed, nodes, problems });
  }
  return { failures, ms: performance.now() - started };
}

export function describeFailures(failures: readonly SeedFailure[]): string {
  return failures.slice(0, 10).map((f) => `${f.problems.join('\n')}\n  replay: ${replayCommand(f.seed, f.nodes)}`).join('\n')
    + (failures.length > 10 ? `\n... and ${failures.length - 10} more seeds: ${failures.slice(10).map((f) => f.seed).join(', ')}` : '');
}

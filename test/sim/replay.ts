// Replays one seeded schedule and checks it:
//   npm run sim -- --seed 1234 [--nodes 5] [--verbose]
// Without --nodes, the node count is the one the test suite uses for that seed.
// --verbose prints the whole trace: every action, input and output, in virtual ms.

import { checkTrace } from './checker.js';
import { generateSchedule } from './schedules.js';
import { runSchedule } from './simulator.js';

/** The node count the suite runs a seed with (3 to 7). */
export const nodesForSeed = (seed: number): number => 3 + (seed % 5);

export function replayCommand(seed: number, nodes: number): string {
  return `npm run sim -- --seed ${seed} --nodes ${nodes} --verbose`;
}

function main(argv: string[]): number {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at === -1 ? undefined : argv[at + 1];
  };
  const seed = Number(value('--seed'));
  if (!Number.isSafeInteger(seed) || seed < 0) {
    process.stderr.write('usage: npm run sim -- --seed N [--nodes 3..7] [--verbose]\n');
    return 2;
  }
  const nodes = value('--nodes') === undefined ? nodesForSeed(seed) : Number(value('--nodes'));
  if (!Number.isSafeInteger(nodes) || nodes < 1) {
    process.stderr.write('--nodes must be a positive integer\n');
    return 2;
  }
  const verbose = argv.includes('--verbose');
  const schedule = generateSchedule(seed, nodes);
  const lines: string[] = [];
  const started = performance.now();
  const trace = runSchedule(schedule, verbose ? { log: (line) => lines.push(line) } : {});
  const ms = performance.now() - started;
  if (verbose) process.stdout.write(`${lines.join('\n')}\n`);
  const problems = checkTrace(trace, 50);
  const delivered = Object.values(trace.logs).flat().filter((e) => e.kind === 'deliver').length;
  process.stdout.write(`seed ${seed}, ${nodes} nodes (${schedule.formed.length > 0 ? 'formed cluster' : 'joining through seeds'}), heal at ${schedule.healAt} ms, end at ${schedule.endAt} ms: `
    + `${trace.recorded.length} events recorded, ${delivered} deliveries, live [${trace.live.join(',')}], ${ms.toFixed(0)} ms\n`);
  if (problems.length === 0) {
    process.stdout.write('all invariants hold\n');
    return 0;
  }
  process.stdout.write(`${problems.join('\n')}\n`);
  return 1;
}

// The test runner loads every file under dist/test/; only a direct run replays.
// `| head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

if (process.env.NODE_TEST_CONTEXT === undefined && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = main(process.argv.slice(2));
}

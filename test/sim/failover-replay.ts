// Replays one failover simulation: node dist/test/sim/failover-replay.js SEED [NODES]
import { runFailover } from './failover.js';

const seed = Number(process.argv[2]);
const nodes = Number(process.argv[3] ?? 3 + (seed % 3));
if (!Number.isSafeInteger(seed)) {
  process.stderr.write('usage: node dist/test/sim/failover-replay.js SEED [NODES]\n');
  process.exit(2);
}
const run = runFailover(seed, nodes);
for (const action of run.schedule.actions) if (action.kind !== 'event' && action.kind !== 'subscription') process.stdout.write(`${action.t} ${JSON.stringify(action)}\n`);
if (run.control) process.stdout.write(`${run.control.t} control ${JSON.stringify(run.control)}\n`);
for (const holding of run.holdings) process.stdout.write(`holding ${holding.group} ${holding.node} ${holding.from}..${holding.runningAt}..${holding.to}${holding.planned ? ' planned stop' : ''}\n`);
process.stdout.write(`holders at end: ${JSON.stringify(run.holdersAtEnd)}\n${run.problems.join('\n') || 'no violation'}\n`);
process.exitCode = run.problems.length > 0 ? 1 : 0;

// The failover consumer in the simulator's loop: each node runs the real
// FailoverRuntime above its core, with scripts that take a random few tens of
// virtual ms, leases fed by the core's heartbeat acks and a watchdog, and the
// checker asserts the invariant: at no moment do two nodes run the
// group, whatever the partition, stall or one-way cut. A node that stops
// petting its watchdog for longer than its timeout counts as reset then (its
// holding ends), as the machine would be.
import { toPayload, toRecord } from '../../services/eventd/cluster/edge/payload.js';
import { failoverTickMs, FailoverRuntime, type FailoverHost } from '../../consumers/failover/runtime.js';
import type { FailoverSettings, GroupSettings } from '../../consumers/failover/settings.js';
import { clusterDefaults, LeaseClock, leaseAgeMs } from '../../services/eventd/cluster/core/index.js';
import { Rng } from './prng.js';
import { generateSchedule, type Schedule, type ScheduleAction } from './schedules.js';
import { runSchedule, type SimApp, type SimNodeApi } from './simulator.js';

export const group: GroupSettings = { name: 'svc', weight: 1, prefer: [], start: '/bin/true', stop: '/bin/true', timeoutMs: 5000, leaseMs: 800, stopBudgetMs: 150, failureTimeoutMs: 0, after: [] };
export const watchdogTimeoutMs = 300;
export const settings: FailoverSettings = {
  groups: [group], capacity: 100, fenceMs: 500, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 2000,
  watchdog: { device: 'sim', timeoutMs: watchdogTimeoutMs },
};

/** A node runs the group from the moment its start script begins until its stop script ends (or the node crashes). */
export interface Holding {
  node: string;
  from: number;
  to: number;
}

export interface FailoverRun {
  schedule: Schedule;
  holdings: Holding[];
  problems: string[];
  /** Live nodes running the group when the run ended. */
  holdersAtEnd: string[];
}

/** A fault schedule for failover: the core's (stalls up to 2 s, past leaseMs, and one-way cuts included), plus a stall of a node longer than the lease. */
export function failoverSchedule(seed: number, nodeCount: number): Schedule {
  const schedule = generateSchedule(seed, nodeCount);
  const rng = new Rng(seed).fork(0x57a1);
  const t = rng.int(3000, Math.max(3001, schedule.endAt - 4000));
  const stall: ScheduleAction = { t, kind: 'stall', node: rng.pick(schedule.nodes), ms: rng.int(group.leaseMs + 100, 3 * group.leaseMs) };
  const actions = [...schedule.actions, stall].sort((a, b) => a.t - b.t);
  return { ...schedule, actions };
}

export function runFailover(seed: number, nodeCount: number): FailoverRun {
  const schedule = failoverSchedule(seed, nodeCount);
  const rng = new Rng(seed).fork(0xfa11);
  const holdings: Holding[] = [];
  const open = new Map<string, Holding>();
  const close = (node: string, t: number): void => {
    const holding = open.get(node);
    if (!holding) return;
    holding.to = t;
    open.delete(node);
  };
  const size = schedule.nodes.length;
  /** When each node petted its watchdog, over all its lives. */
  const pets = new Map(schedule.nodes.map((node) => [node, [] as number[]]));

  const app = (node: string, api: SimNodeApi): SimApp => {
    // A restart after a crash: the service died with the host.
    close(node, api.t());
    const scripts: Array<{ at: number; done: (ok: boolean, detail: string) => void; id: number }> = [];
    let scriptIds = 0;
    const lease = new LeaseClock();
    const host: FailoverHost = {
      node,
      now: () => api.now(),
      mono: () => api.t(),
      leaseAgeMs: () => leaseAgeMs(lease.ages(api.t()), size),
      silentForMs: (peer) => api.silentFor(peer),
      pet: () => void pets.get(node)!.push(api.t()),
      view: () => api.view(),
      hasQuorum: () => (1 + api.heardWithin(clusterDefaults.suspectAfterMs).length) * 2 > size,
      size: () => size,
      raise: (draft, order) => {
        const outputs = api.step({ type: 'localEvent', order, payload: toPayload(draft, 'cluster') });
        const recorded = outputs.find((output) => output.type === 'recorded');
        if (!recorded || recorded.type !== 'recorded') throw new Error('the core recorded nothing');
        if (process.env['FAILOVER_SIM_DEBUG']) process.stdout.write(`${api.t()} ${node} raises ${recorded.event.origin}:${recorded.event.seq} ${draft.class} ${JSON.stringify(draft.attrs)} view=${api.view().join(',')}\n`);
        return `${recorded.event.origin}:${recorded.event.seq}`;
      },
      run: (_group, action, _reason, _timeoutMs, done) => {
        const id = ++scriptIds;
        if (action === 'start' && !open.has(node)) {
          const holding = { node, from: api.t(), to: Number.POSITIVE_INFINITY };
          open.set(node, holding);
          holdings.push(holding);
        }
        scripts.push({
          at: api.t() + rng.int(5, 60),
          id,
          done: (ok, detail) => {
            if (action === 'stop') close(node, api.t());
            done(ok, detail);
          },
        });
        return { kill: () => void scripts.splice(0, scripts.length, ...scripts.filter((script) => script.id !== id)) };
      },
      warn: () => {},
      monitor: () => {
        throw new Error('no monitor in the simulator');
      },
    };
    const runtime = new FailoverRuntime(host, settings);
    let started = false;
    return {
      outputs: (outputs) => {
        for (const output of outputs) {
          if (output.type === 'send' && output.frame.type === 'heartbeat' && output.frame.beat !== undefined) lease.sent(output.frame.beat, api.t());
          if (output.type === 'leaseAck') lease.acked(output.from, output.beat);
        }
        if (!started) return;
        const events = outputs.flatMap((output) => {
          if (output.type !== 'deliver') return [];
          const record = toRecord(output.event, node);
          return record ? [record] : [];
        });
        if (events.length > 0) runtime.observe(events);
      },
      tick: () => {
        if (!started) {
          started = true;
          runtime.start(api.delivered().flatMap((event) => {
            const record = toRecord(event, node);
            return record ? [record] : [];
          }));
        }
        const due = scripts.filter((script) => script.at <= api.t());
        for (const script of due) {
          scripts.splice(scripts.indexOf(script), 1);
          script.done(true, 'ok');
        }
        runtime.tick();
      },
    };
  };

  const trace = runSchedule(schedule, { app, tickMs: failoverTickMs });
  // No pet for longer than the watchdog's timeout: the machine reset then, and what it ran stopped with it.
  for (const holding of holdings) holding.to = Math.min(holding.to, resetAt(pets.get(holding.node)!, holding, schedule.endAt));
  // A crash ends the holding then (the host died with it); the app only learns of it at the restart.
  for (const holding of holdings) {
    const crash = schedule.actions.find((a) => a.t >= holding.from && ((a.kind === 'crash' && a.node === holding.node) || (a.kind === 'heal' && a.keepDown.includes(holding.node))));
    if (crash && crash.t < holding.to) holding.to = crash.t;
  }
  const problems = checkFailover(schedule, holdings);
  const holdersAtEnd = holdings.filter((h) => h.to === Number.POSITIVE_INFINITY && trace.live.includes(h.node)).map((h) => h.node);
  return { schedule, holdings, problems, holdersAtEnd };
}

/** The first moment within the holding its node's watchdog would have fired; Infinity when never. */
function resetAt(pets: readonly number[], holding: Holding, endAt: number): number {
  const end = Math.min(holding.to, endAt);
  let last = [...pets].reverse().find((t) => t <= holding.from);
  for (const t of pets) {
    if (t <= holding.from) continue;
    if (t > end) break;
    if (last !== undefined && t - last > watchdogTimeoutMs) return last + watchdogTimeoutMs;
    last = t;
  }
  return last !== undefined && end - last > watchdogTimeoutMs ? last + watchdogTimeoutMs : Infinity;
}

/** Two holdings of two nodes that overlap in time: a violation, whatever the partitions (DESIGN.md: at most one node runs a group at any moment). */
export function checkFailover(schedule: Schedule, holdings: readonly Holding[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < holdings.length; i++) {
    for (let j = i + 1; j < holdings.length; j++) {
      const a = holdings[i]!;
      const b = holdings[j]!;
      if (a.node === b.node) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to, schedule.endAt);
      if (from < to) problems.push(`seed ${schedule.seed}: ${a.node} and ${b.node} both run the group from ${from} to ${to} ms`);
    }
  }
  return problems;
}

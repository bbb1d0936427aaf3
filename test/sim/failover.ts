// The failover consumer in the simulator's loop: each node runs the real
// FailoverRuntime above its core, with scripts that take a random few tens of
// virtual ms, and the checker asserts the invariant: at no moment do
// two nodes of a partition with quorum run the group.
import { toPayload, toRecord } from '../../services/eventd/cluster/edge/payload.js';
import { failoverTickMs, FailoverRuntime, type FailoverHost } from '../../consumers/failover/runtime.js';
import type { FailoverSettings, GroupSettings } from '../../consumers/failover/settings.js';
import { clusterDefaults } from '../../services/eventd/cluster/core/index.js';
import { Rng } from './prng.js';
import { generateSchedule, type Schedule, type ScheduleAction } from './schedules.js';
import { runSchedule, type SimApp, type SimNodeApi } from './simulator.js';

export const group: GroupSettings = { name: 'svc', weight: 1, prefer: [], start: '/bin/true', stop: '/bin/true', timeoutMs: 5000 };
export const settings: FailoverSettings = { groups: [group], capacity: 100, fenceMs: 500, failback: false, maxStartFailures: 3 };

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

/** A fault schedule for failover: the core's, without stalls long enough to need a watchdog (a stalled node cannot stop anything). */
export function failoverSchedule(seed: number, nodeCount: number): Schedule {
  const schedule = generateSchedule(seed, nodeCount);
  const actions = schedule.actions.filter((action) => action.kind !== 'stall' || action.ms < settings.fenceMs / 2);
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

  const app = (node: string, api: SimNodeApi): SimApp => {
    // A restart after a crash: the service died with the host.
    close(node, api.t());
    const scripts: Array<{ at: number; done: (ok: boolean, detail: string) => void; id: number }> = [];
    let scriptIds = 0;
    const host: FailoverHost = {
      node,
      now: () => api.now(),
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
  const alive = aliveAt(schedule);
  // A crash ends the holding then (the host died with it); the app only learns of it at the restart.
  for (const holding of holdings) {
    const crash = schedule.actions.find((a) => a.t >= holding.from && ((a.kind === 'crash' && a.node === holding.node) || (a.kind === 'heal' && a.keepDown.includes(holding.node))));
    if (crash && crash.t < holding.to) holding.to = crash.t;
  }
  const problems = checkFailover(schedule, holdings, alive);
  const holdersAtEnd = holdings.filter((h) => h.to === Number.POSITIVE_INFINITY && trace.live.includes(h.node)).map((h) => h.node);
  return { schedule, holdings, problems, holdersAtEnd };
}

/** Whether each node is up at time t, from the schedule's starts, crashes and heals. */
function aliveAt(schedule: Schedule): (node: string, t: number) => boolean {
  const changes = schedule.actions.filter((a) => a.kind === 'start' || a.kind === 'restart' || a.kind === 'crash' || a.kind === 'heal');
  return (node, t) => {
    let up = false;
    for (const action of changes) {
      if (action.t > t) break;
      if ((action.kind === 'start' || action.kind === 'restart' || action.kind === 'crash') && action.node !== node) continue;
      if (action.kind === 'heal') up = !action.keepDown.includes(node);
      else up = action.kind !== 'crash';
    }
    return up;
  };
}

/** The cut (one-way) links at time t. */
function cutsAt(actions: readonly ScheduleAction[], t: number): Set<string> {
  const cuts = new Map<number, string[]>();
  for (const action of actions) {
    if (action.t > t) break;
    if (action.kind === 'cut') cuts.set(action.id, action.links.map(([a, b]) => `${a}>${b}`));
    if (action.kind === 'mend') cuts.delete(action.id);
    if (action.kind === 'heal') cuts.clear();
  }
  return new Set([...cuts.values()].flat());
}

/** Partitions at time t: live nodes joined when both directions between them are open. */
export function partitionsAt(schedule: Schedule, alive: (node: string, t: number) => boolean, t: number): string[][] {
  const cuts = cutsAt(schedule.actions, t);
  const nodes = schedule.nodes.filter((node) => alive(node, t));
  const seen = new Set<string>();
  const parts: string[][] = [];
  for (const start of nodes) {
    if (seen.has(start)) continue;
    const part: string[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      const node = stack.pop()!;
      part.push(node);
      for (const other of nodes) {
        if (seen.has(other) || cuts.has(`${node}>${other}`) || cuts.has(`${other}>${node}`)) continue;
        seen.add(other);
        stack.push(other);
      }
    }
    parts.push(part.sort());
  }
  return parts;
}

/** Two holdings that overlap in time, on two nodes of one partition with quorum at some moment of the overlap: a violation. */
export function checkFailover(schedule: Schedule, holdings: readonly Holding[], alive: (node: string, t: number) => boolean): string[] {
  const problems: string[] = [];
  const changeTimes = schedule.actions.filter((a) => ['cut', 'mend', 'heal', 'crash', 'restart', 'start'].includes(a.kind)).map((a) => a.t);
  const quorum = (part: string[]) => part.length * 2 > schedule.nodes.length;
  for (let i = 0; i < holdings.length; i++) {
    for (let j = i + 1; j < holdings.length; j++) {
      const a = holdings[i]!;
      const b = holdings[j]!;
      if (a.node === b.node) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to, schedule.endAt);
      if (from >= to) continue;
      for (const t of [from, ...changeTimes.filter((c) => c > from && c < to)]) {
        const part = partitionsAt(schedule, alive, t).find((p) => p.includes(a.node));
        if (part && part.includes(b.node) && quorum(part)) {
          problems.push(`seed ${schedule.seed}: ${a.node} and ${b.node} both run the group at ${t} ms, in partition [${part.join(',')}] with quorum`);
          break;
        }
      }
    }
  }
  return problems;
}

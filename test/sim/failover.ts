// The failover consumer in the simulator's loop: each node runs the real
// FailoverRuntime above its core, with scripts that take a random few tens of
// virtual ms, leases fed by the core's heartbeat acks and a watchdog. Three
// groups: `svc`, `vip` colocated with it, `app` after it. An operator's move
// or ban of svc is raised at a random moment. The checker asserts the issue's
// invariants: at no moment do two nodes run a group, whatever the partition,
// stall or one-way cut; app never starts before svc runs; vip never runs
// apart from svc for longer than one transition; a move or ban once agreed
// holds when the cluster settles. A node that stops petting its watchdog for
// longer than its timeout counts as reset then (its holdings end), as the
// machine would be, and eventd restarts on it (a fresh runtime over the
// same store and core: the reboot itself is not modelled).
import { toPayload, toRecord } from '../../services/eventd/cluster/edge/payload.js';
import { failoverTickMs, FailoverRuntime, leaseMarginMs, type FailoverHost } from '../../consumers/failover/runtime.js';
import type { ControlAttrs } from '../../consumers/failover/controls.js';
import { failoverDefaults, type FailoverSettings, type GroupSettings } from '../../consumers/failover/settings.js';
import { clusterDefaults, LeaseClock, leaseAgeMs } from '../../services/eventd/cluster/core/index.js';
import { Rng } from './prng.js';
import { generateSchedule, type Schedule, type ScheduleAction } from './schedules.js';
import { runSchedule, type SimApp, type SimNodeApi } from './simulator.js';

export const group: GroupSettings = { name: 'svc', weight: 1, prefer: [], start: '/bin/true', stop: '/bin/true', timeoutMs: 5000, leaseMs: failoverDefaults.leaseMs, stopBudgetMs: 150, failureTimeoutMs: 0, after: [] };
/** Goes where svc goes. */
export const colocated: GroupSettings = { ...group, name: 'vip', colocateWith: 'svc' };
/** Starts once svc runs, wherever placement puts it (most free capacity: another node). */
export const ordered: GroupSettings = { ...group, name: 'app', after: ['svc'] };
export const watchdogTimeoutMs = 300;
export const settings: FailoverSettings = {
  groups: [group, colocated, ordered], capacity: 100, fenceMs: 500, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 2000, garpRefreshMs: 0,
  watchdog: { device: 'sim', timeoutMs: watchdogTimeoutMs },
};
/** The longest a script takes in the simulator. */
const scriptMaxMs = 60;
/**
 * One transition of a group from one node to another, the most the checker
 * lets vip run apart from svc: the old holder's stop (inside its lease) plus
 * the takeover wait (lease, watchdog, margin) and a start.
 */
export const transitionMs = group.leaseMs + watchdogTimeoutMs + leaseMarginMs + 2 * scriptMaxMs;
/** How long a node may go on believing a crashed (or reset) holder of svc runs: until its view drops it. */
export const staleMs = clusterDefaults.suspectAfterMs + 2 * transitionMs;

/** A node runs the group from the moment its start script begins until its stop script ends (or the node crashes or resets). */
export interface Holding {
  group: string;
  node: string;
  from: number;
  /** When its start script succeeded (Infinity while starting). */
  runningAt: number;
  to: number;
  /** A planned stop ended it (placement, a move): not a crash, a watchdog reset or a stop forced by a lapsing lease or lost quorum. */
  planned: boolean;
}

export interface FailoverRun {
  schedule: Schedule;
  holdings: Holding[];
  problems: string[];
  /** Live nodes running each group when the run ended. */
  holdersAtEnd: Record<string, string[]>;
  /** The operator's control, if one was raised (and not refused). */
  control?: ControlAttrs & { t: number; by: string };
}

/**
 * A fault schedule for failover: the core's (stalls up to 2 s, past leaseMs, and one-way cuts included), plus a stall of a node longer
 * than the lease, and a node whose loop runs late for a few seconds (a loaded machine: stalls of 100-240 ms, a few ms apart, so its
 * timers fire late and its frames are read late, each lag short of the runtime's stall rule).
 */
export function failoverSchedule(seed: number, nodeCount: number): Schedule {
  const schedule = generateSchedule(seed, nodeCount);
  const rng = new Rng(seed).fork(0x57a1);
  const t = rng.int(3000, Math.max(3001, schedule.endAt - 4000));
  const stall: ScheduleAction = { t, kind: 'stall', node: rng.pick(schedule.nodes), ms: rng.int(group.leaseMs + 100, 3 * group.leaseMs) };
  const lagging = rng.pick(schedule.nodes);
  const lags: ScheduleAction[] = [];
  for (let at = rng.int(1000, Math.max(1001, schedule.endAt - 4000)), end = at + rng.int(1000, 4000); at < end;) {
    const ms = rng.int(100, 240);
    lags.push({ t: at, kind: 'stall', node: lagging, ms });
    at += ms + rng.int(5, 60);
  }
  const actions = [...schedule.actions, stall, ...lags].sort((a, b) => a.t - b.t);
  return { ...schedule, actions };
}

export function runFailover(seed: number, nodeCount: number): FailoverRun {
  const schedule = failoverSchedule(seed, nodeCount);
  const rng = new Rng(seed).fork(0xfa11);
  const controlRng = new Rng(seed).fork(0xc0de);
  // A move or ban of svc, raised by the first node with quorum to tick after this moment (before the heal, so it settles).
  const controlAt = controlRng.int(1000, Math.max(1001, schedule.healAt));
  const wanted: ControlAttrs = { action: controlRng.chance(0.5) ? 'move' : 'ban', group: group.name, node: controlRng.pick(schedule.nodes) };
  let control: FailoverRun['control'];
  let controlTried = false;
  const holdings: Holding[] = [];
  const open = new Map<string, Holding>();
  const close = (node: string, t: number, name?: string, planned = false): void => {
    for (const [key, holding] of open) {
      if (holding.node !== node || (name !== undefined && holding.group !== name)) continue;
      holding.to = t;
      holding.planned = planned;
      open.delete(key);
    }
  };
  const size = schedule.nodes.length;
  /** When each node petted its watchdog, over all its lives. */
  const pets = new Map(schedule.nodes.map((node) => [node, [] as number[]]));

  const app = (node: string, api: SimNodeApi): SimApp => {
    // A restart after a crash: the services died with the host.
    close(node, api.t());
    const scripts: Array<{ at: number; done: (ok: boolean, detail: string) => void; id: number }> = [];
    let scriptIds = 0;
    const lease = new LeaseClock();
    const hasQuorum = (): boolean => (1 + api.heardWithin(clusterDefaults.suspectAfterMs).length) * 2 > size;
    const host: FailoverHost = {
      node,
      now: () => api.now(),
      mono: () => api.t(),
      leaseAgeMs: () => leaseAgeMs(lease.ages(api.t()), size),
      silentForMs: (peer) => api.silentFor(peer),
      pet: () => void pets.get(node)!.push(api.t()),
      view: () => api.view(),
      hasQuorum,
      size: () => size,
      raise: (draft, order) => {
        const outputs = api.step({ type: 'localEvent', order, payload: toPayload(draft, 'cluster') });
        const recorded = outputs.find((output) => output.type === 'recorded');
        if (!recorded || recorded.type !== 'recorded') throw new Error('the core recorded nothing');
        if (process.env['FAILOVER_SIM_DEBUG']) process.stdout.write(`${api.t()} ${node} raises ${recorded.event.origin}:${recorded.event.seq} ${draft.class} ${draft.resource} ${JSON.stringify(draft.attrs)} view=${api.view().join(',')}\n`);
        return `${recorded.event.origin}:${recorded.event.seq}`;
      },
      run: (runGroup, action, reason, _timeoutMs, done) => {
        const id = ++scriptIds;
        const key = `${node}:${runGroup.name}`;
        if (action === 'start' && !open.has(key)) {
          const holding: Holding = { group: runGroup.name, node, from: api.t(), runningAt: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY, planned: false };
          open.set(key, holding);
          holdings.push(holding);
        }
        scripts.push({
          at: api.t() + rng.int(5, scriptMaxMs),
          id,
          done: (ok, detail) => {
            // The runtime's forced stops say "fenced: ..." (lease lapsing, quorum lost).
            if (action === 'stop') close(node, api.t(), runGroup.name, !reason.startsWith('fenced'));
            else if (open.get(key)?.runningAt === Number.POSITIVE_INFINITY) open.get(key)!.runningAt = api.t();
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
    let runtime = new FailoverRuntime(host, settings);
    let started = false;
    /** The watchdog fires this long after the last pet: the machine resets, and eventd comes back on it (a new runtime, the same store). */
    const watchdogFired = (): number | undefined => {
      const last = pets.get(node)!.at(-1);
      return started && last !== undefined && api.t() - last > watchdogTimeoutMs ? last + watchdogTimeoutMs : undefined;
    };
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
        const resetAt = watchdogFired();
        if (resetAt !== undefined) {
          close(node, resetAt);
          scripts.splice(0, scripts.length);
          runtime.stop();
          runtime = new FailoverRuntime(host, settings);
          started = false;
        }
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
        if (!controlTried && api.t() >= controlAt && hasQuorum()) {
          controlTried = true;
          try {
            runtime.control(wanted);
            control = { ...wanted, t: api.t(), by: node };
          } catch {
            // Refused with a reason (the node is not in the view, or standby): nothing was raised, nothing to check.
          }
        }
        runtime.tick();
      },
    };
  };

  const trace = runSchedule(schedule, { app, tickMs: failoverTickMs });
  // No pet for longer than the watchdog's timeout: the machine reset then, and what it ran stopped with it.
  for (const holding of holdings) {
    const reset = resetAt(pets.get(holding.node)!, holding, schedule.endAt);
    if (reset < holding.to) Object.assign(holding, { to: reset, planned: false });
  }
  // A crash ends the holding then (the host died with it); the app only learns of it at the restart.
  for (const holding of holdings) {
    const crash = schedule.actions.find((a) => a.t >= holding.from && ((a.kind === 'crash' && a.node === holding.node) || (a.kind === 'heal' && a.keepDown.includes(holding.node))));
    if (crash && crash.t < holding.to) Object.assign(holding, { to: crash.t, planned: false });
  }
  const holdersAtEnd: Record<string, string[]> = {};
  for (const name of settings.groups.map((g) => g.name)) {
    holdersAtEnd[name] = holdings.filter((h) => h.group === name && h.to === Number.POSITIVE_INFINITY && trace.live.includes(h.node)).map((h) => h.node);
  }
  const problems = [...checkFailover(schedule, holdings), ...checkConstraints(schedule, holdings), ...checkControl(schedule, control, holdersAtEnd, trace.live)];
  return { schedule, holdings, problems, holdersAtEnd, ...(control ? { control } : {}) };
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

/** Two holdings of one group by two nodes that overlap in time: a violation, whatever the partitions (DESIGN.md: at most one node runs a group at any moment). */
export function checkFailover(schedule: Schedule, holdings: readonly Holding[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < holdings.length; i++) {
    for (let j = i + 1; j < holdings.length; j++) {
      const a = holdings[i]!;
      const b = holdings[j]!;
      if (a.node === b.node || a.group !== b.group) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to, schedule.endAt);
      if (from < to) problems.push(`seed ${schedule.seed}: ${a.node} and ${b.node} both run ${a.group} from ${from} to ${to} ms`);
    }
  }
  return problems;
}

/**
 * app never starts unless svc runs: some holding of svc was running by
 * then and had not been stopped by a planned stop (a planned stop of svc
 * waits for app to stop first). An end nobody could wait for (a crash, a
 * watchdog reset, a stop forced by a lapsing lease) is known elsewhere only
 * once the agreed order says so: allowed for staleMs. vip never runs on one
 * node while svc runs on another for longer than transitionMs.
 */
export function checkConstraints(schedule: Schedule, holdings: readonly Holding[]): string[] {
  const problems: string[] = [];
  const of = (name: string) => holdings.filter((h) => h.group === name);
  for (const start of of(ordered.name)) {
    const ran = of(group.name).some((svc) => svc.runningAt <= start.from && (svc.to > start.from || (!svc.planned && start.from - svc.to <= staleMs)));
    if (!ran) problems.push(`seed ${schedule.seed}: ${start.node} started ${ordered.name} at ${start.from} ms while ${group.name} ran nowhere`);
  }
  for (const v of of(colocated.name)) {
    for (const s of of(group.name)) {
      if (s.node === v.node) continue;
      const from = Math.max(v.from, s.from);
      const to = Math.min(v.to, s.to, schedule.endAt);
      if (to - from > transitionMs) problems.push(`seed ${schedule.seed}: ${colocated.name} on ${v.node} apart from ${group.name} on ${s.node} for ${to - from} ms (${from}..${to})`);
    }
  }
  return problems;
}

/** A move or ban agreed before the heal holds once the cluster settled: svc on the moved-to node (when it lives), never on the banned one. */
export function checkControl(schedule: Schedule, control: FailoverRun['control'], holdersAtEnd: Record<string, string[]>, live: readonly string[]): string[] {
  const holders = holdersAtEnd[group.name] ?? [];
  if (!control || holders.length !== 1) return [];
  const holder = holders[0]!;
  if (control.action === 'ban' && holder === control.node) return [`seed ${schedule.seed}: ${group.name} runs on ${holder}, banned at ${control.t} ms`];
  if (control.action === 'move' && live.includes(control.node!) && holder !== control.node) return [`seed ${schedule.seed}: ${group.name} runs on ${holder}, moved to ${control.node} at ${control.t} ms`];
  return [];
}

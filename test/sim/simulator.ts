// Deterministic simulator: N cluster cores over the simulated network, driven
// by a timed queue of inputs in virtual time. Each node has its own clock
// (virtual time + skew, stepped at some restarts), its own tick timer, and a
// store that outlives crashes. A crash drops the core between two steps,
// which is what the edge's one-transaction-per-step contract guarantees.

import { ClusterCore, MemoryCoreStore, parseFrame, type ClusterConfig, type ClusterEvent, type CoreInput, type CoreOutput } from '../../services/eventd/cluster/core/index.js';
import { Network, open, type Parcel } from './network.js';
import { Rng } from './prng.js';
import type { Schedule, ScheduleAction } from './schedules.js';
import type { NodeLogEntry, Trace } from './trace.js';
import { Attacker, SimWire, type SealedHeader } from './attacker.js';

/** Virtual time 0 on the nodes' wall clocks (a realistic epoch, so HLC texts look real). */
export const epochMs = 1_700_000_000_000;

export interface SimOptions {
  /** Timer period of the simulated edge. */
  tickMs?: number;
  config?: Partial<ClusterConfig>;
  /** Receives one line per input and output when set (replay --verbose). */
  log?: (line: string) => void;
  /** Called for every output, for tests that watch the cluster as it runs. */
  onOutput?: (t: number, node: string, output: CoreOutput) => void;
  /** Rewrites a step's outputs before the simulator acts on them: tests use it to sabotage a node and see the checker object. */
  tamper?: (t: number, node: string, outputs: CoreOutput[]) => CoreOutput[];
  /** An application on each node above the core (the failover consumer): made at each start, dropped at each crash. */
  app?: (node: string, api: SimNodeApi) => SimApp;
}

/** What a node's application may do: step its core (raise events) and read its clock and what it hears. */
export interface SimNodeApi {
  /** Virtual time (ms since the run began), the same for every node. */
  t(): number;
  /** This node's wall clock. */
  now(): number;
  view(): string[];
  /** Peers this node received a frame from within the last `ms`, as the edge tracks them. */
  heardWithin(ms: number): string[];
  /** Virtual ms since a frame of `peer` was handled here; Infinity when none since this start. */
  silentFor(peer: string): number;
  /** One core step now, its outputs handled like any other's (and handed to the app). */
  step(input: CoreInput): CoreOutput[];
  /** What this node delivered before the app was made (its log after a restart). */
  delivered(): ClusterEvent[];
}

export interface SimApp {
  /** Every step's outputs, after the simulator acted on them. */
  outputs(outputs: CoreOutput[]): void;
  /** The node's timer fired (after the core's tick). */
  tick(): void;
}

type Item =
  | { kind: 'action'; action: ScheduleAction }
  | { kind: 'tick'; node: string; generation: number }
  | { kind: 'frame'; from: string; to: string; parcel: Parcel; header: SealedHeader; replay: boolean };

interface QueueEntry {
  t: number;
  /** Actions before ticks before frames at the same instant (a stalled node's timer fires before its backlog is read). */
  rank: number;
  order: number;
  item: Item;
}

interface SimNode {
  name: string;
  store: MemoryCoreStore;
  core: ClusterCore | undefined;
  generation: number;
  skewMs: number;
  busyUntil: number;
  app?: SimApp | undefined;
  /** Virtual time of the last frame received from each peer. */
  heard: Map<string, number>;
}

class Queue {
  private readonly heap: QueueEntry[] = [];
  private order = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, item: Item): void {
    const rank = item.kind === 'action' ? 0 : item.kind === 'tick' ? 1 : 2;
    this.heap.push({ t, rank, order: this.order++, item });
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i] as QueueEntry, this.heap[parent] as QueueEntry)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent] as QueueEntry, this.heap[i] as QueueEntry];
      i = parent;
    }
  }

  pop(): QueueEntry | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined || this.heap.length === 0) return top;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && before(this.heap[l] as QueueEntry, this.heap[m] as QueueEntry)) m = l;
      if (r < this.heap.length && before(this.heap[r] as QueueEntry, this.heap[m] as QueueEntry)) m = r;
      if (m === i) break;
      [this.heap[i], this.heap[m]] = [this.heap[m] as QueueEntry, this.heap[i] as QueueEntry];
      i = m;
    }
    return top;
  }
}

const before = (a: QueueEntry, b: QueueEntry): boolean => (a.t - b.t || a.rank - b.rank || a.order - b.order) < 0;

export function runSchedule(schedule: Schedule, options: SimOptions = {}): Trace {
  const tickMs = options.tickMs ?? 50;
  const log = options.log;
  const rng = new Rng(schedule.seed).fork(0xfeed);
  const network = new Network(rng.fork(1), schedule.network);
  const phase = rng.fork(2);
  const wire = new SimWire();
  const attacker = new Attacker(rng.fork(3), schedule.nodes);
  const queue = new Queue();
  const nodes = new Map<string, SimNode>();
  const trace: Trace = {
    seed: schedule.seed,
    nodes: [...schedule.nodes],
    recorded: [],
    logs: {},
    live: [],
    finalViews: {},
    subscriptionWrites: [],
    finalSubscriptions: {},
    commits: [],
    configured: schedule.nodes.length,
    inFlightMs: Math.max(schedule.network.longDelayMaxMs, schedule.network.maxDelayMs)
      + Math.max(0, ...schedule.actions.map((a) => (a.kind === 'stall' ? a.ms : 0))),
  };
  /** How many nodes' stores hold, at `position`, the decision `node` holds there (a delivery needs a majority). */
  const persistedBy = (node: SimNode, position: number): number => {
    const mine = node.store.decisionAt(position);
    if (mine === undefined) return 0;
    const text = JSON.stringify(mine);
    let count = 0;
    for (const other of nodes.values()) if (JSON.stringify(other.store.decisionAt(position)) === text) count += 1;
    return count;
  };
  /** Per node: since when it hears no majority component (undefined while it does). */
  const cutOffSince = new Map<string, number>();
  const majority = (size: number): boolean => 2 * size > schedule.nodes.length;
  /** After every action: which up nodes can hear (directed links, transitively) a majority joined by links working both ways (crashed nodes counted in). */
  const updateCutOff = (t: number): void => {
    const up = [...nodes.values()].filter((n) => n.core !== undefined).map((n) => n.name);
    const both = (a: string, b: string): boolean => !network.blocked(a, b) && !network.blocked(b, a);
    const component = new Map<string, number>();
    const sizes: number[] = [];
    for (const name of up) {
      if (component.has(name)) continue;
      const id = sizes.length;
      const stack = [name];
      component.set(name, id);
      let size = 0;
      while (stack.length > 0) {
        const at = stack.pop() as string;
        size += 1;
        for (const other of up) if (!component.has(other) && both(at, other)) { component.set(other, id); stack.push(other); }
      }
      sizes.push(size);
    }
    // A crashed node's store keeps what it persisted (its acks count), so a component with the crashed nodes beside it may commit.
    const crashed = schedule.nodes.length - up.length;
    const hears = new Set(up.filter((name) => majority((sizes[component.get(name) as number] as number) + crashed)));
    for (let grew = true; grew;) {
      grew = false;
      for (const name of up) {
        if (hears.has(name)) continue;
        if ([...hears].some((from) => !network.blocked(from, name))) { hears.add(name); grew = true; }
      }
    }
    for (const name of schedule.nodes) {
      if (hears.has(name) || !up.includes(name)) cutOffSince.delete(name);
      else if (!cutOffSince.has(name)) cutOffSince.set(name, t);
    }
  };
  for (const name of schedule.nodes) {
    nodes.set(name, {
      name,
      store: schedule.formed.includes(name) ? MemoryCoreStore.formed(schedule.formed) : new MemoryCoreStore(),
      core: undefined,
      generation: 0,
      skewMs: schedule.skewMs[name] ?? 0,
      busyUntil: 0,
      heard: new Map(),
    });
    trace.logs[name] = [];
  }
  for (const action of schedule.actions) queue.push(action.t, { kind: 'action', action });
  let payloadCounter = 0;
  // A broadcast is one frame object sent to every peer: serialise it once.
  let lastFrame: object | undefined;
  let lastParcel: Parcel = { json: '' };

  const nodeLog = (name: string): NodeLogEntry[] => trace.logs[name] as NodeLogEntry[];
  const config = (name: string): Partial<ClusterConfig> => ({ configuredNodes: schedule.nodes.length, configuredHash: `sim:${schedule.nodes.join(',')}`, ...schedule.config, ...options.config, seeds: schedule.seeds[name] ?? [] });

  /** The node's application, made once its core is ready (the edge starts consumers after identity recovery). */
  const makeApp = (node: SimNode): void => {
    if (!options.app || node.app !== undefined || node.core === undefined || !node.core.ready) return;
    {
      const api: SimNodeApi = {
        t: () => now,
        now: () => epochMs + now + node.skewMs,
        view: () => node.core?.view() ?? [],
        heardWithin: (ms) => [...node.heard].filter(([, at]) => now - at < ms).map(([peer]) => peer),
        silentFor: (peer) => {
          const at = node.heard.get(peer);
          return at === undefined ? Infinity : now - at;
        },
        step: (input) => (node.core ? step(node, now, input) : []),
        delivered: () => nodeLog(node.name).flatMap((entry) => (entry.kind === 'deliver' ? [entry.event] : [])),
      };
      node.app = options.app(node.name, api);
    }
  };

  const start = (node: SimNode, t: number): void => {
    if (node.core !== undefined) return;
    node.core = new ClusterCore(node.name, config(node.name), node.store);
    node.generation += 1;
    node.busyUntil = 0;
    node.heard.clear();
    wire.restarted(node.name);
    nodeLog(node.name).push({ kind: 'start', t, view: node.core.view() });
    makeApp(node);
    log?.(`${t} ${node.name} start incarnation=${node.core.incarnation} view=[${node.core.view().join(',')}]`);
    queue.push(t + phase.int(0, tickMs - 1), { kind: 'tick', node: node.name, generation: node.generation });
  };

  const crash = (node: SimNode, t: number): void => {
    if (node.core === undefined) return;
    node.core = undefined;
    node.app = undefined;
    node.generation += 1;
    nodeLog(node.name).push({ kind: 'crash', t });
    log?.(`${t} ${node.name} crash`);
  };

  let now = 0;
  const step = (node: SimNode, t: number, input: CoreInput): CoreOutput[] => {
    const core = node.core as ClusterCore;
    if (input.type === 'frame') node.heard.set(input.frame.from, t);
    if (log !== undefined) log(`${t} ${node.name} <- ${describeInput(input)}`);
    const stepped = core.step(input, epochMs + t + node.skewMs);
    const outputs = options.tamper === undefined ? stepped : options.tamper(t, node.name, stepped);
    for (const output of outputs) {
      if (log !== undefined) log(`${t} ${node.name} -> ${describeOutput(output)}`);
      options.onOutput?.(t, node.name, output);
      switch (output.type) {
        case 'send':
        case 'sendSeed': {
          const to = output.type === 'send' ? output.to : output.address;
          if (!nodes.has(to)) break;
          if (output.frame !== lastFrame) {
            lastFrame = output.frame;
            lastParcel = { json: JSON.stringify(output.frame) };
          }
          const header = wire.seal(node.name, to, node.generation, epochMs + t + node.skewMs);
          for (const copy of network.send(node.name, to, t, lastParcel)) {
            queue.push(copy.at, { kind: 'frame', from: copy.from, to: copy.to, parcel: copy.parcel, header, replay: false });
          }
          const replay = attacker.replayOf(t);
          if (replay !== undefined) {
            wire.replayed += 1;
            queue.push(replay.at, { kind: 'frame', from: node.name, to: replay.to, parcel: lastParcel, header, replay: true });
          }
          break;
        }
        case 'recorded':
          trace.recorded.push({ t, event: output.event });
          break;
        case 'deliver': {
          const since = cutOffSince.get(node.name);
          nodeLog(node.name).push({ kind: 'deliver', t, event: output.event, ...(output.position === undefined ? {} : { position: output.position, persistedBy: persistedBy(node, output.position) }), ...(since === undefined ? {} : { cutOffSince: since }) });
          break;
        }
        case 'clusterView': {
          const since = cutOffSince.get(node.name);
          nodeLog(node.name).push({ kind: 'cluster', t, position: output.position, epoch: `${output.epoch.n}.${output.epoch.leader}`, members: output.members, persistedBy: persistedBy(node, output.position), ...(since === undefined ? {} : { cutOffSince: since }) });
          break;
        }
        case 'committed':
          {
            const since = cutOffSince.get(node.name);
            trace.commits.push({ t, node: node.name, position: output.position, ...(since === undefined ? {} : { cutOffSince: since }) });
          }
          break;
        case 'viewChange':
          nodeLog(node.name).push({ kind: 'view', t, view: output.view });
          break;
        case 'subscriptionChange':
        case 'identity':
        case 'leaseAck':
        case 'configuredSetDiffers':
          break;
      }
    }
    if (input.type === 'subscriptionPut' || input.type === 'subscriptionDelete') {
      const entry = node.store.subscriptions().find((e) => e.id === input.id);
      if (entry !== undefined) trace.subscriptionWrites.push({ t, node: node.name, entry });
    }
    node.app?.outputs(outputs);
    makeApp(node);
    return outputs;
  };

  /** A busy node handles nothing until its stall ends; the input waits in its queue. */
  const deferred = (node: SimNode, t: number, item: Item): boolean => {
    if (t >= node.busyUntil) return false;
    queue.push(node.busyUntil, item);
    return true;
  };

  for (let entry = queue.pop(); entry !== undefined && entry.t <= schedule.endAt; entry = queue.pop()) {
    const { t, item } = entry;
    now = t;
    if (item.kind === 'tick') {
      const node = nodes.get(item.node) as SimNode;
      if (node.core === undefined || item.generation !== node.generation || deferred(node, t, item)) continue;
      step(node, t, { type: 'tick' });
      node.app?.tick();
      queue.push(t + tickMs, item);
    } else if (item.kind === 'frame') {
      const node = nodes.get(item.to) as SimNode;
      if (node.core === undefined || network.blocked(item.from, item.to)) continue;
      if (deferred(node, t, item)) continue;
      // The edge's replay protection: network duplicates and the attacker's replays stop here.
      if (wire.admit(node.name, item.header, epochMs + t + node.skewMs, item.replay) !== 'fresh') continue;
      // Parsed, checked and frozen once per parcel; the copies to every peer share it.
      item.parcel.frame ??= parseFrame(open(item.parcel));
      const frame = item.parcel.frame;
      if (frame === undefined) throw new Error(`seed ${schedule.seed}: a core sent a malformed frame: ${item.parcel.json}`);
      step(node, t, { type: 'frame', frame });
    } else {
      const action = item.action;
      log?.(`${t} -- ${describeAction(action)}`);
      switch (action.kind) {
        case 'start':
          start(nodes.get(action.node) as SimNode, t);
          break;
        case 'restart': {
          const node = nodes.get(action.node) as SimNode;
          if (node.core === undefined) node.skewMs = action.skewMs;
          start(node, t);
          break;
        }
        case 'crash':
          crash(nodes.get(action.node) as SimNode, t);
          break;
        case 'stall': {
          const node = nodes.get(action.node) as SimNode;
          node.busyUntil = Math.max(node.busyUntil, t + action.ms);
          break;
        }
        case 'cut':
          network.cut(action.id, action.links);
          break;
        case 'mend':
          network.mend(action.id);
          break;
        case 'heal':
          network.mendAll();
          network.setParams(schedule.calmNetwork);
          for (const node of nodes.values()) {
            if (action.keepDown.includes(node.name)) crash(node, t);
            else start(node, t);
          }
          break;
        case 'event': {
          const node = nodes.get(action.node) as SimNode;
          // A node still learning its identity records nothing (the edge holds its producers back until it is ready).
          if (node.core === undefined || !node.core.ready) break;
          if (deferred(node, t, item)) break;
          payloadCounter += 1;
          step(node, t, { type: 'localEvent', order: action.order, payload: { n: payloadCounter, at: action.node } });
          break;
        }
        case 'subscription': {
          const node = nodes.get(action.node) as SimNode;
          if (node.core === undefined || !node.core.ready) break;
          if (deferred(node, t, item)) break;
          payloadCounter += 1;
          step(node, t, action.remove
            ? { type: 'subscriptionDelete', id: action.id }
            : { type: 'subscriptionPut', id: action.id, value: { name: `${action.id}-v${payloadCounter}`, by: action.node } });
          break;
        }
      }
      updateCutOff(t);
    }
  }

  for (const node of nodes.values()) {
    if (node.core === undefined) continue;
    trace.live.push(node.name);
    trace.finalViews[node.name] = node.core.view();
    trace.finalSubscriptions[node.name] = node.store.subscriptions();
  }
  trace.replays = { sent: wire.replayed, admitted: wire.replaysAdmitted };
  log?.(`${schedule.endAt} end: network sent=${network.sent} dropped=${network.dropped} replays sent=${wire.replayed} admitted=${wire.replaysAdmitted}`);
  return trace;
}

function describeInput(input: CoreInput): string {
  switch (input.type) {
    case 'frame': {
      const f = input.frame;
      if (f.type === 'heartbeat') return `heartbeat from ${f.from}@${f.incarnation} hlc=${f.hlc} seq=${f.seq} view=[${f.view.map((r) => r.name).join(',')}] unreach=[${f.unreach.join(',')}]`;
      if (f.type === 'events') return `events from ${f.from} [${f.events.map((e) => `${e.origin}:${e.seq}`).join(',')}]`;
      if (f.type === 'pull') return `pull from ${f.from} ${f.origin}:${f.fromSeq}..${f.toSeq}`;
      if (f.type === 'append') return `append from ${f.from} epoch ${f.epoch.n}.${f.epoch.leader} prev=${f.prev} [${f.entries.map((d) => `${d.position}=${d.kind === 'event' ? `${d.origin}:${d.seq}` : 'view'}`).join(',')}] committed=${f.committed}`;
      if (f.type === 'appended') return `appended from ${f.from} epoch ${f.epoch.n}.${f.epoch.leader} ok=${f.ok} match=${f.match}`;
      if (f.type === 'prepare') return `prepare from ${f.from} epoch ${f.epoch.n}.${f.epoch.leader} above=${f.above}`;
      if (f.type === 'promise') return `promise from ${f.from} epoch ${f.epoch.n}.${f.epoch.leader} ok=${f.ok} last=${f.last} committed=${f.committed} tail=${f.tail.length}${f.more ? '+' : ''}`;
      return `${f.type} from ${f.from}@${f.incarnation}`;
    }
    case 'localEvent':
      return `localEvent ${input.order} ${JSON.stringify(input.payload)}`;
    case 'subscriptionPut':
      return `subscriptionPut ${input.id}`;
    case 'subscriptionDelete':
      return `subscriptionDelete ${input.id}`;
    case 'tick':
      return 'tick';
  }
}

function describeOutput(output: CoreOutput): string {
  switch (output.type) {
    case 'send':
      return `send ${output.frame.type} to ${output.to}`;
    case 'sendSeed':
      return `send ${output.frame.type} to seed ${output.address}`;
    case 'recorded':
      return `recorded ${output.event.origin}:${output.event.seq} ${output.event.order} hlc=${output.event.hlc}`;
    case 'deliver':
      return `deliver ${output.event.origin}:${output.event.seq} ${output.event.order} hlc=${output.event.hlc}${output.position === undefined ? '' : ` at ${output.position}`}`;
    case 'clusterView':
      return `cluster view at ${output.position} epoch ${output.epoch.n}.${output.epoch.leader} members=[${output.members.join(',')}] joined=[${output.joined.join(',')}] left=[${output.left.join(',')}]`;
    case 'committed':
      return `committed up to ${output.position}`;
    case 'configuredSetDiffers':
      return `configured set of ${output.from} differs (${output.theirs} vs ${output.ours})`;
    case 'viewChange':
      return `view [${output.view.join(',')}] up=[${output.up.join(',')}] down=[${output.down.join(',')}]`;
    case 'subscriptionChange':
      return `subscription ${output.id} ${output.value === null ? 'deleted' : 'set'}`;
    case 'leaseAck':
      return `lease ack of beat ${output.beat} from ${output.from}`;
    case 'identity':
      return `identity ${output.stage} incarnation=${output.incarnation} seq=${output.seq} answered=[${output.answered.join(',')}]`;
  }
}

function describeAction(action: ScheduleAction): string {
  switch (action.kind) {
    case 'cut':
      return `cut #${action.id} ${action.links.map(([a, b]) => `${a}>${b}`).join(' ')}`;
    case 'mend':
      return `mend #${action.id}`;
    case 'heal':
      return `heal: all links mended, network calm, crashed nodes restarted${action.keepDown.length > 0 ? ` but ${action.keepDown.join(',')} (dead for good)` : ''}`;
    case 'stall':
      return `stall ${action.node} ${action.ms}ms`;
    case 'restart':
      return `restart ${action.node} skew=${action.skewMs}ms`;
    case 'event':
      return `raise ${action.order} event at ${action.node}`;
    case 'subscription':
      return `${action.remove ? 'delete' : 'put'} subscription ${action.id} at ${action.node}`;
    default:
      return `${action.kind} ${'node' in action ? action.node : ''}`;
  }
}

// failover's config section: defaults in one place, checked once at start,
// each problem naming its key.
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventdError, parseDuration, type ConfigSchema } from '../../services/eventd/sdk/index.js';

export interface GroupSettings {
  name: string;
  weight: number;
  prefer: string[];
  start: string;
  stop: string;
  timeoutMs: number;
  /** The holder keeps the group only while a majority acknowledged its heartbeats within this (ms). */
  leaseMs: number;
  /** The holder starts stopping when less than this is left of its lease, so the stop fits inside it. */
  stopBudgetMs: number;
  /** A node's fail count for the group resets after this long without a failure (Pacemaker failure-timeout); 0: never. */
  failureTimeoutMs: number;
  /** Runs only where this group runs (a VIP with its service). */
  colocateWith?: string;
  /** Starts only once these groups run; a planned stop of one of them waits until this group stopped (Pacemaker ordering). */
  after: string[];
  ip?: { address: string; prefixLength: number; interface: string };
  /** A local subscription whose events mean "unhealthy here". */
  monitor?: { class: string; expr: string; rearm?: string; where?: string; for?: number | string };
}

/** A watchdog device (Linux /dev/watchdog, softdog): petted only while this node holds the leases of what it runs. */
export interface WatchdogSettings {
  device: string;
  /** The device's timeout (softdog soft_margin): peers wait this much longer before taking over from this node. */
  timeoutMs: number;
}

export interface FailoverSettings {
  groups: GroupSettings[];
  capacity: number;
  fenceMs: number;
  failback: boolean;
  maxStartFailures: number;
  /** What a SIGTERM does to the groups running here: stop them before exit, or leave them to the peers' takeover. */
  onShutdown: 'stop' | 'leave';
  /** After a start with no group running anywhere, no group is placed until every configured node is in the view or this has passed. */
  startupWaitMs: number;
  /** The holder of a group with `ip` announces it again (gratuitous ARP) this often, and whenever the view changes; 0: only on view changes. */
  garpRefreshMs: number;
  watchdog?: WatchdogSettings;
  /** A fence agent run by a takeover's winner against the lost holder before it starts the group. */
  fence?: { run: string; timeoutMs: number };
}

export const failoverDefaults = {
  weight: 1, capacity: 100, fenceMs: 400, failback: false, maxStartFailures: 3, timeout: '30s',
  // A lease rests on the freshest majority ack; each heartbeat is acked at once (an ack frame), so that ack
  // is at most one heartbeat (100 ms) plus a round trip old. 600 ms leaves 500 beyond it, of which the stop
  // budget takes 150 and a tick 50: a holder rides out 300-400 ms of lag (its own or its peers') before it
  // stops, and peers take over 750 ms after they last heard it. (With 200 ms heartbeats 600 ms fenced a
  // freshly started holder under stress -c 2: the API's build then ran after the cluster started.)
  leaseMs: 600, stopBudgetMs: 150, onShutdown: 'stop', startupWaitMs: 10_000,
  // Two ARP packets a minute per address: nothing for a network, and a stale neighbour entry lasts at most that.
  garpRefreshMs: 60_000,
} as const;

/** The bundled IP takeover script, beside this module in the built tree. */
export const ipTakeoverScript = join(dirname(fileURLToPath(import.meta.url)), 'scripts', 'ip-takeover');

/** The section's JSON Schema, beside this file; assembled into the daemon's config schema. */
export const failoverConfigSchema = JSON.parse(readFileSync(new URL('./config.schema.json', import.meta.url), 'utf8')) as ConfigSchema;

type RawGroup = {
  name: string; weight?: number; prefer?: string[]; start?: string; stop?: string; timeout?: string; leaseMs?: number; stopBudgetMs?: number; failureTimeout?: string;
  colocateWith?: string; after?: string[];
  ip?: GroupSettings['ip']; monitor?: GroupSettings['monitor'];
};
type RawFailover = {
  groups: RawGroup[]; capacity?: number; fenceMs?: number; failback?: boolean; maxStartFailures?: number; leaseMs?: number; stopBudgetMs?: number;
  onShutdown?: 'stop' | 'leave'; startupWaitMs?: number; garpRefreshMs?: number; watchdog?: WatchdogSettings; fence?: { run: string; timeout?: string };
};

/** The section after the schema passed it; start and stop scripts resolved against `configDir`. */
export function failoverSettings(raw: unknown, configDir: string): FailoverSettings {
  const input = raw as RawFailover;
  const names = new Set<string>();
  const groups = input.groups.map((group, index): GroupSettings => {
    const key = `failover.groups[${index}]`;
    if (names.has(group.name)) bad(`${key}.name`, `"${group.name}" is used by another group`);
    names.add(group.name);
    const start = group.start === undefined ? (group.ip ? ipTakeoverScript : undefined) : resolve(configDir, group.start);
    const stop = group.stop === undefined ? (group.ip ? ipTakeoverScript : undefined) : resolve(configDir, group.stop);
    if (start === undefined) bad(`${key}.start`, 'required (or give ip to use the bundled ip-takeover script)');
    if (stop === undefined) bad(`${key}.stop`, 'required (or give ip to use the bundled ip-takeover script)');
    executable(start!, `${key}.start`);
    executable(stop!, `${key}.stop`);
    const leaseMs = group.leaseMs ?? input.leaseMs ?? failoverDefaults.leaseMs;
    const stopBudgetMs = group.stopBudgetMs ?? input.stopBudgetMs ?? failoverDefaults.stopBudgetMs;
    // The holder renews its lease about every two heartbeats; a budget that eats the lease would stop it at once.
    if (stopBudgetMs * 2 > leaseMs) bad(`${key}.stopBudgetMs`, `${stopBudgetMs} ms is more than half of the lease (${leaseMs} ms): raise leaseMs`);
    return {
      name: group.name,
      weight: group.weight ?? failoverDefaults.weight,
      prefer: group.prefer ?? [],
      start: start!,
      stop: stop!,
      timeoutMs: parseDuration(group.timeout ?? failoverDefaults.timeout, `${key}.timeout`),
      leaseMs,
      stopBudgetMs,
      failureTimeoutMs: group.failureTimeout === undefined ? 0 : parseDuration(group.failureTimeout, `${key}.failureTimeout`),
      ...(group.colocateWith === undefined ? {} : { colocateWith: group.colocateWith }),
      after: [...new Set(group.after ?? [])],
      ...(group.ip ? { ip: group.ip } : {}),
      ...(group.monitor ? { monitor: group.monitor } : {}),
    };
  });
  checkConstraints(groups);
  return {
    groups,
    capacity: input.capacity ?? failoverDefaults.capacity,
    fenceMs: input.fenceMs ?? failoverDefaults.fenceMs,
    failback: input.failback ?? failoverDefaults.failback,
    maxStartFailures: input.maxStartFailures ?? failoverDefaults.maxStartFailures,
    onShutdown: input.onShutdown ?? failoverDefaults.onShutdown,
    startupWaitMs: input.startupWaitMs ?? failoverDefaults.startupWaitMs,
    garpRefreshMs: input.garpRefreshMs ?? failoverDefaults.garpRefreshMs,
    ...(input.fence ? { fence: fenceSettings(input.fence, configDir) } : {}),
    ...(input.watchdog ? { watchdog: { device: resolve(configDir, input.watchdog.device), timeoutMs: input.watchdog.timeoutMs } } : {}),
  };
}

/** colocateWith and after name other groups, and neither goes round in a circle (no order could satisfy it). */
function checkConstraints(groups: readonly GroupSettings[]): void {
  const index = new Map(groups.map((group, i) => [group.name, i]));
  for (const [i, group] of groups.entries()) {
    const key = `failover.groups[${i}]`;
    if (group.colocateWith !== undefined) {
      if (group.colocateWith === group.name) bad(`${key}.colocateWith`, 'a group cannot be colocated with itself');
      if (!index.has(group.colocateWith)) bad(`${key}.colocateWith`, `no group "${group.colocateWith}" (groups: ${groups.map((g) => g.name).join(', ')})`);
    }
    for (const [j, name] of group.after.entries()) {
      if (name === group.name) bad(`${key}.after[${j}]`, 'a group cannot start after itself');
      if (!index.has(name)) bad(`${key}.after[${j}]`, `no group "${name}" (groups: ${groups.map((g) => g.name).join(', ')})`);
    }
  }
  for (const [edge, next] of [['colocateWith', (g: GroupSettings) => (g.colocateWith === undefined ? [] : [g.colocateWith])], ['after', (g: GroupSettings) => g.after]] as const) {
    const state = new Map<string, 'open' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'open') bad(`failover.groups[${index.get(name)}].${edge}`, `goes round in a circle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
      state.set(name, 'open');
      for (const other of next(groups[index.get(name)!]!)) visit(other, [...path, name]);
      state.set(name, 'done');
    };
    for (const group of groups) visit(group.name, []);
  }
}

function fenceSettings(fence: { run: string; timeout?: string }, configDir: string): { run: string; timeoutMs: number } {
  const run = resolve(configDir, fence.run);
  executable(run, 'failover.fence.run');
  return { run, timeoutMs: parseDuration(fence.timeout ?? '20s', 'failover.fence.timeout') };
}

function executable(path: string, key: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    bad(key, `${path} is not an executable file`);
  }
}

function bad(key: string, message: string): never {
  throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${key}: ${message}`, { key });
}

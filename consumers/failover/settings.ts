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
  ip?: { address: string; prefixLength: number; interface: string };
  /** A local subscription whose events mean "unhealthy here". */
  monitor?: { class: string; expr: string; rearm?: string; where?: string; for?: number | string };
}

export interface FailoverSettings {
  groups: GroupSettings[];
  capacity: number;
  fenceMs: number;
  failback: boolean;
  maxStartFailures: number;
}

export const failoverDefaults = { weight: 1, capacity: 100, fenceMs: 400, failback: false, maxStartFailures: 3, timeout: '30s' } as const;

/** The bundled IP takeover script, beside this module in the built tree. */
export const ipTakeoverScript = join(dirname(fileURLToPath(import.meta.url)), 'scripts', 'ip-takeover');

/** The section's JSON Schema, beside this file; assembled into the daemon's config schema. */
export const failoverConfigSchema = JSON.parse(readFileSync(new URL('./config.schema.json', import.meta.url), 'utf8')) as ConfigSchema;

type RawGroup = { name: string; weight?: number; prefer?: string[]; start?: string; stop?: string; timeout?: string; ip?: GroupSettings['ip']; monitor?: GroupSettings['monitor'] };
type RawFailover = { groups: RawGroup[]; capacity?: number; fenceMs?: number; failback?: boolean; maxStartFailures?: number };

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
    return {
      name: group.name,
      weight: group.weight ?? failoverDefaults.weight,
      prefer: group.prefer ?? [],
      start: start!,
      stop: stop!,
      timeoutMs: parseDuration(group.timeout ?? failoverDefaults.timeout, `${key}.timeout`),
      ...(group.ip ? { ip: group.ip } : {}),
      ...(group.monitor ? { monitor: group.monitor } : {}),
    };
  });
  return {
    groups,
    capacity: input.capacity ?? failoverDefaults.capacity,
    fenceMs: input.fenceMs ?? failoverDefaults.fenceMs,
    failback: input.failback ?? failoverDefaults.failback,
    maxStartFailures: input.maxStartFailures ?? failoverDefaults.maxStartFailures,
  };
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

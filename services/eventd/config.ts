import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { clusterSettings, type ClusterSettings, type RawCluster } from './config-cluster.js';
import { EventdError } from './errors.js';
import { describeErrors, validator } from './schema.js';

/** The daemon's configuration after defaults, validated once and frozen. */
export interface Config {
  readonly node: string;
  readonly dataDir: string;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly log: { readonly level: string };
  readonly api: { readonly host: string; readonly port: number; readonly token?: string; readonly bodyLimitBytes: number };
  readonly plugins: { readonly dirs: readonly string[] };
  readonly producers: Readonly<Record<string, Readonly<Record<string, unknown>> & { readonly periodMs?: number }>>;
  readonly actions: { readonly concurrency: number; readonly outputLimitBytes: number };
  readonly events: { readonly maxCount: number; readonly maxAgeMs: number };
  /** The MQTT bridge (consumers/mqtt); absent, it is off. */
  readonly mqtt?: MqttConfig;
  /** Peers, keys and timing of the cluster; absent, a single node. */
  readonly cluster?: ClusterSettings;
  /** Resource groups (consumers/failover reads and checks it); script paths resolved against the config's folder. */
  readonly failover?: Readonly<Record<string, unknown>>;
}

export interface MqttConfig {
  /** mqtt://, mqtts://, ws:// or wss:// */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Absolute paths of PEM files (resolved against the config file's folder). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly topicPrefix: string;
  readonly qos: 0 | 1 | 2;
}

/** Every default in one place. */
export const defaults = {
  dataDir: './.eventd',
  procRoot: '/proc',
  sysRoot: '/sys',
  logLevel: 'info',
  apiHost: '127.0.0.1',
  apiPort: 7070,
  bodyLimitBytes: 64 * 1024,
  actionConcurrency: 16,
  actionOutputLimitBytes: 64 * 1024,
  eventsMaxCount: 1_000_000,
  eventsMaxAgeMs: 30 * 24 * 3_600_000,
  mqttTopicPrefix: 'eventd',
  mqttQos: 1,
} as const;

export interface ConfigOverrides {
  node?: string;
  port?: number;
  dataDir?: string;
}

type RawConfig = {
  node?: string;
  dataDir?: string;
  procRoot?: string;
  sysRoot?: string;
  log?: { level?: string };
  api?: { host?: string; port?: number; token?: string; bodyLimitBytes?: number };
  plugins?: { dirs?: string[] };
  producers?: Record<string, Record<string, unknown>>;
  actions?: { concurrency?: number; outputLimitBytes?: number };
  events?: { maxCount?: number; maxAgeMs?: number };
  cluster?: RawCluster;
  failover?: { groups: Array<Record<string, unknown> & { start?: string; stop?: string }> } & Record<string, unknown>;
  mqtt?: { url: string; username?: string; password?: string; ca?: string; cert?: string; key?: string; topicPrefix?: string; qos?: 0 | 1 | 2 };
};

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `config ${file}: cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `config ${file}: not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Validates raw config against schemas/config.schema.json (unknown keys are
 * errors naming the key), applies flag overrides and defaults, and freezes it.
 * Relative paths are resolved against `baseDir` (the config file's folder, or the cwd).
 */
export function buildConfig(raw: unknown, overrides: ConfigOverrides = {}, baseDir = process.cwd(), source = 'config'): Config {
  const validate = validator('config.schema.json');
  if (!validate(raw ?? {})) {
    const problems = describeErrors(validate.errors);
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: ${problems.join('; ')}`, { problems });
  }
  const input = (raw ?? {}) as RawConfig;
  const host = input.api?.host ?? defaults.apiHost;
  const token = input.api?.token;
  if (!isLoopback(host) && token === undefined) {
    throw new EventdError(
      'EVENTD_ERR_BAD_CONFIG',
      `${source}: api.token: required because api.host ${host} is not a loopback address`,
    );
  }
  const config: Config = {
    node: overrides.node ?? input.node ?? hostname(),
    dataDir: resolve(baseDir, overrides.dataDir ?? input.dataDir ?? defaults.dataDir),
    procRoot: resolve(baseDir, input.procRoot ?? defaults.procRoot),
    sysRoot: resolve(baseDir, input.sysRoot ?? defaults.sysRoot),
    log: { level: input.log?.level ?? defaults.logLevel },
    api: {
      host,
      port: overrides.port ?? input.api?.port ?? defaults.apiPort,
      ...(token === undefined ? {} : { token }),
      bodyLimitBytes: input.api?.bodyLimitBytes ?? defaults.bodyLimitBytes,
    },
    plugins: { dirs: (input.plugins?.dirs ?? []).map((dir) => resolve(baseDir, dir)) },
    producers: input.producers ?? {},
    actions: {
      concurrency: input.actions?.concurrency ?? defaults.actionConcurrency,
      outputLimitBytes: input.actions?.outputLimitBytes ?? defaults.actionOutputLimitBytes,
    },
    events: {
      maxCount: input.events?.maxCount ?? defaults.eventsMaxCount,
      maxAgeMs: input.events?.maxAgeMs ?? defaults.eventsMaxAgeMs,
    },
    ...(input.mqtt === undefined ? {} : { mqtt: mqttConfig(input.mqtt, baseDir, source) }),
    ...(input.cluster === undefined ? {} : { cluster: clusterSettings(input.cluster, source) }),
    ...(input.failover === undefined
      ? {}
      : {
          failover: {
            ...input.failover,
            groups: input.failover.groups.map((group) => ({
              ...group,
              ...(group.start === undefined ? {} : { start: resolve(baseDir, group.start) }),
              ...(group.stop === undefined ? {} : { stop: resolve(baseDir, group.stop) }),
            })),
          },
        }),
  };
  return deepFreeze(config);
}

function mqttConfig(raw: NonNullable<RawConfig['mqtt']>, baseDir: string, source: string): MqttConfig {
  // The schema checked the scheme; URL parsing catches the rest (a bad port, an empty host).
  let url: URL | undefined;
  try {
    url = new URL(raw.url);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '') {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: mqtt.url: "${redactUrl(raw.url)}" is not a valid broker URL`, { problems: ['mqtt.url: not a valid broker URL'] });
  }
  const file = (path: string | undefined) => (path === undefined ? undefined : resolve(baseDir, path));
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
  return {
    url: raw.url,
    ...optional('username', raw.username),
    ...optional('password', raw.password),
    ...optional('ca', file(raw.ca)),
    ...optional('cert', file(raw.cert)),
    ...optional('key', file(raw.key)),
    topicPrefix: raw.topicPrefix ?? defaults.mqttTopicPrefix,
    qos: raw.qos ?? defaults.mqttQos,
  };
}

/** A URL with its password (if any) replaced, fit for logs and error messages. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@\s]*:)[^@/\s]*@/i, '$1***@');
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parseDuration } from './duration.js';
import { findAccount, findGroup, type Account, type Group } from './system/accounts.js';
import { clusterSettings, type ClusterSettings, type RawCluster } from './cluster/settings.js';
import type { ConsumerPlugin } from './consumers/contract.js';
import type { SmtpSettings } from './actions/email.js';
import type { RetryPolicy } from './actions/retry.js';
import type { InhibitRule } from './responses/inhibit.js';
import { EventdError, isEventdError } from './errors.js';
import { producerSettingsSchema } from './producers/settings-check.js';
import { compileSchema, describeErrors, loadSchema, validator } from './schema.js';
import type { AttributeSpec, ProducerManifest } from './types.js';

/** The daemon's configuration after defaults, validated once and frozen. */
export interface Config {
  readonly node: string;
  readonly dataDir: string;
  /** A voter only: no producers, and consumers run in their witness mode (failover votes, runs no group). */
  readonly witness: boolean;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly log: { readonly level: string };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly token?: string;
    /** Every configured token, api.token (named "token") first; empty: the daemon generates one into <dataDir>/api-token. */
    readonly tokens: readonly NamedToken[];
    /** The group given the API socket; absent: the daemon's own. */
    readonly socketGroup?: Group;
    readonly allowedHosts: readonly string[];
    readonly bodyLimitBytes: number;
  };
  /** How long a graceful stop may take before the process exits anyway. */
  readonly stopTimeoutMs: number;
  readonly plugins: { readonly dirs: readonly string[] };
  readonly producers: Readonly<Record<string, Readonly<Record<string, unknown>> & { readonly periodMs?: number }>>;
  readonly actions: { readonly concurrency: number; readonly outputLimitBytes: number; readonly retry: Readonly<RetryPolicy>; readonly user?: Account };
  /** The SMTP server of e-mail actions; absent: e-mail actions fail. */
  readonly smtp?: Readonly<SmtpSettings>;
  /** Inhibition rules; none when absent. */
  readonly inhibit: readonly InhibitRule[];
  readonly events: { readonly maxCount: number; readonly maxAgeMs: number; readonly classes: Readonly<Record<string, EventClassSpec>> };
  /** This node's tags as configured (eventctl tags set overrides them at run time, persisted). */
  readonly tags: Readonly<Record<string, string>>;
  /** Query handlers by query name. */
  readonly queries: Readonly<Record<string, QueryHandlerSpec>>;
  /** Peers, keys and timing of the cluster; absent, a single node. */
  readonly cluster?: ClusterSettings;
  /** Per consumer config key present in the file: that consumer's settings (its `settings()` of the section). */
  readonly consumers: Readonly<Record<string, unknown>>;
}

/** A class of raised events (events.classes.<Class>): its typed attributes, like a producer manifest's. */
export interface EventClassSpec {
  readonly description?: string;
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
}

/** queries.<name>: the script that answers, the payload on its stdin. */
export interface QueryHandlerSpec {
  readonly run: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
}

/** A bearer token for TCP and who holding it is, for createdBy and the audit. */
export interface NamedToken {
  readonly name: string;
  readonly token: string;
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
  actionRetryMaxAttempts: 20,
  actionRetryMaxAge: '24h',
  actionRetryInitialBackoff: '1s',
  actionRetryMaxBackoff: '60s',
  eventsMaxCount: 1_000_000,
  eventsMaxAgeMs: 30 * 24 * 3_600_000,
  stopTimeout: '10s',
  queryHandlerTimeout: '5s',
} as const;

export interface ConfigOverrides {
  node?: string;
  port?: number;
  dataDir?: string;
  /** eventd --witness */
  witness?: boolean;
}

type RawConfig = {
  node?: string;
  dataDir?: string;
  witness?: boolean;
  procRoot?: string;
  sysRoot?: string;
  log?: { level?: string };
  api?: { host?: string; port?: number; token?: string; tokens?: NamedToken[]; socketGroup?: string; allowedHosts?: string[]; bodyLimitBytes?: number };
  stopTimeout?: string;
  plugins?: { dirs?: string[] };
  producers?: Record<string, Record<string, unknown>>;
  actions?: { concurrency?: number; outputLimitBytes?: number; user?: string; retry?: { maxAttempts?: number; maxAge?: string; initialBackoff?: string; maxBackoff?: string } };
  smtp?: SmtpSettings;
  inhibit?: InhibitRule[];
  events?: { maxCount?: number; maxAgeMs?: number; classes?: Record<string, EventClassSpec> };
  tags?: Record<string, string>;
  queries?: Record<string, { run: string; args?: string[]; timeout?: string }>;
  cluster?: RawCluster;
} & Record<string, unknown>;

/** What plugins add to the config schema: each consumer's section, each producer's settings under producers.<Class>. */
export interface PluginConfigSchemas {
  consumers: readonly Pick<ConsumerPlugin, 'configKey' | 'configSchema' | 'settings' | 'witnessSection'>[];
  producers: readonly { class: string; configSchema: ProducerManifest['configSchema'] }[];
}

const noPlugins: PluginConfigSchemas = { consumers: [], producers: [] };

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
 * Validates raw config against schemas/config.schema.json with the plugins'
 * schemas assembled into it (unknown keys are errors naming the key), has
 * each configured consumer check its section, applies flag overrides and
 * defaults, and freezes it. Relative paths are resolved against `baseDir`
 * (the config file's folder, or the cwd).
 */
export function buildConfig(raw: unknown, overrides: ConfigOverrides = {}, baseDir = process.cwd(), source = 'config', plugins: PluginConfigSchemas = noPlugins): Config {
  const validate = configValidator(plugins);
  if (!validate(raw ?? {})) {
    const problems = describeErrors(validate.errors);
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: ${problems.join('; ')}`, { problems });
  }
  const input = (raw ?? {}) as RawConfig;
  const host = input.api?.host ?? defaults.apiHost;
  const token = input.api?.token;
  const tokens = [...(token === undefined ? [] : [{ name: 'token', token }]), ...(input.api?.tokens ?? [])];
  const names = tokens.map((entry) => entry.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: api.tokens: the name "${repeated}" is used twice (api.token is named "token")`);
  if (!isLoopback(host) && tokens.length === 0) {
    throw new EventdError(
      'EVENTD_ERR_BAD_CONFIG',
      `${source}: api.token: required because api.host ${host} is not a loopback address`,
    );
  }
  const witness = overrides.witness ?? input.witness ?? false;
  if (witness && input.cluster === undefined) throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: witness: a witness votes in a cluster; give it the cluster section of the others`, { key: 'witness' });
  const config: Config = {
    node: overrides.node ?? input.node ?? hostname(),
    dataDir: resolve(baseDir, overrides.dataDir ?? input.dataDir ?? defaults.dataDir),
    witness,
    procRoot: resolve(baseDir, input.procRoot ?? defaults.procRoot),
    sysRoot: resolve(baseDir, input.sysRoot ?? defaults.sysRoot),
    log: { level: input.log?.level ?? defaults.logLevel },
    api: {
      host,
      port: overrides.port ?? input.api?.port ?? defaults.apiPort,
      ...(token === undefined ? {} : { token }),
      tokens,
      ...(input.api?.socketGroup === undefined ? {} : { socketGroup: group(input.api.socketGroup, source) }),
      allowedHosts: input.api?.allowedHosts ?? [],
      bodyLimitBytes: input.api?.bodyLimitBytes ?? defaults.bodyLimitBytes,
    },
    plugins: { dirs: (input.plugins?.dirs ?? []).map((dir) => resolve(baseDir, dir)) },
    producers: input.producers ?? {},
    actions: {
      concurrency: input.actions?.concurrency ?? defaults.actionConcurrency,
      outputLimitBytes: input.actions?.outputLimitBytes ?? defaults.actionOutputLimitBytes,
      retry: retryPolicy(input.actions?.retry ?? {}, source),
      ...(input.actions?.user === undefined ? {} : { user: account(input.actions.user, source) }),
    },
    ...(input.smtp === undefined ? {} : { smtp: { url: input.smtp.url, from: input.smtp.from } }),
    inhibit: input.inhibit ?? [],
    stopTimeoutMs: parseDuration(input.stopTimeout ?? defaults.stopTimeout, `${source}: stopTimeout`),
    events: {
      maxCount: input.events?.maxCount ?? defaults.eventsMaxCount,
      maxAgeMs: input.events?.maxAgeMs ?? defaults.eventsMaxAgeMs,
      classes: input.events?.classes ?? {},
    },
    tags: input.tags ?? {},
    queries: queryHandlers(input.queries ?? {}, baseDir, source),
    ...(input.cluster === undefined ? {} : { cluster: clusterSettings(input.cluster, source) }),
    consumers: consumerSettings(input, plugins, baseDir, source, witness),
  };
  return deepFreeze(config);
}

function queryHandlers(raw: NonNullable<RawConfig['queries']>, baseDir: string, source: string): Record<string, QueryHandlerSpec> {
  const handlers: Record<string, QueryHandlerSpec> = {};
  for (const [name, spec] of Object.entries(raw)) {
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(spec.timeout ?? defaults.queryHandlerTimeout, `queries.${name}.timeout`);
    } catch (error) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: ${(error as Error).message}`, { field: `queries.${name}.timeout` });
    }
    // A bare name is looked up on PATH (like an action's run); a path is relative to the config's folder.
    handlers[name] = { run: spec.run.includes('/') ? resolve(baseDir, spec.run) : spec.run, args: spec.args ?? [], timeoutMs };
  }
  return handlers;
}

function retryPolicy(raw: NonNullable<NonNullable<RawConfig['actions']>['retry']>, source: string): RetryPolicy {
  const duration = (text: string, key: string): number => {
    try {
      return parseDuration(text, `actions.retry.${key}`);
    } catch (error) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: ${(error as Error).message}`, { field: `actions.retry.${key}` });
    }
  };
  return {
    maxAttempts: raw.maxAttempts ?? defaults.actionRetryMaxAttempts,
    maxAgeMs: duration(raw.maxAge ?? defaults.actionRetryMaxAge, 'maxAge'),
    initialBackoffMs: duration(raw.initialBackoff ?? defaults.actionRetryInitialBackoff, 'initialBackoff'),
    maxBackoffMs: duration(raw.maxBackoff ?? defaults.actionRetryMaxBackoff, 'maxBackoff'),
  };
}

function account(nameOrUid: string, source: string): Account {
  const found = findAccount(nameOrUid);
  if (!found) throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: actions.user: no user "${nameOrUid}" in /etc/passwd`);
  return found;
}

function group(nameOrGid: string, source: string): Group {
  const found = findGroup(nameOrGid);
  if (!found) throw new EventdError('EVENTD_ERR_BAD_CONFIG', `${source}: api.socketGroup: no group "${nameOrGid}" in /etc/group`);
  return found;
}

function consumerSettings(input: RawConfig, plugins: PluginConfigSchemas, baseDir: string, source: string, witness: boolean): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const plugin of plugins.consumers) {
    // A witness runs a consumer that has a witness part (failover's votes) even without its section.
    const section = input[plugin.configKey] ?? (witness ? plugin.witnessSection : undefined);
    if (section === undefined) continue;
    try {
      settings[plugin.configKey] = plugin.settings(section, baseDir);
    } catch (error) {
      if (isEventdError(error)) throw new EventdError(error.code, `${source}: ${error.message}`, error.details);
      throw error;
    }
  }
  return settings;
}

/** The core schema with each plugin's part put in its place. */
function configValidator(plugins: PluginConfigSchemas): ValidateFunction {
  if (plugins.consumers.length === 0 && plugins.producers.length === 0) return validator('config.schema.json');
  const schema = structuredClone(loadSchema('config.schema.json')) as ObjectSchema;
  delete schema.$id;
  for (const plugin of plugins.consumers) schema.properties[plugin.configKey] = plugin.configSchema;
  const producers = schema.properties['producers'] as ObjectSchema;
  producers.properties = {};
  for (const producer of plugins.producers) producers.properties[producer.class] = producerSettingsSchema(producer.configSchema);
  return compileSchema(schema);
}

type ObjectSchema = { $id?: string; properties: Record<string, unknown>; additionalProperties?: unknown };

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

// The `mqtt` config section: its schema beside this file, checks beyond it,
// defaults in one place, and TLS files resolved against the config's folder.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventdError, redactUrl, type ConfigSchema } from '../../services/eventd/sdk/index.js';

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

export const mqttDefaults = { topicPrefix: 'eventd', qos: 1 } as const;

export const mqttConfigSchema = JSON.parse(readFileSync(new URL('./config.schema.json', import.meta.url), 'utf8')) as ConfigSchema;

type RawMqtt = { url: string; username?: string; password?: string; ca?: string; cert?: string; key?: string; topicPrefix?: string; qos?: 0 | 1 | 2 };

/** The section after the schema passed it. */
export function mqttSettings(section: unknown, configDir: string): MqttConfig {
  const raw = section as RawMqtt;
  // The schema checked the scheme; URL parsing catches the rest (a bad port, an empty host).
  let url: URL | undefined;
  try {
    url = new URL(raw.url);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '') {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `mqtt.url: "${redactUrl(raw.url)}" is not a valid broker URL`, { problems: ['mqtt.url: not a valid broker URL'] });
  }
  const file = (path: string | undefined) => (path === undefined ? undefined : resolve(configDir, path));
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
  return {
    url: raw.url,
    ...optional('username', raw.username),
    ...optional('password', raw.password),
    ...optional('ca', file(raw.ca)),
    ...optional('cert', file(raw.cert)),
    ...optional('key', file(raw.key)),
    topicPrefix: raw.topicPrefix ?? mqttDefaults.topicPrefix,
    qos: raw.qos ?? mqttDefaults.qos,
  };
}

// The broker connection: one mqtt.js client per attempt, reconnected with
// capped exponential backoff. mqtt.js's own reconnect and offline queue are
// off: the outbox (the event log and its cursor) is the only queue, so a new
// connection simply republishes from the acknowledged position.
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from './settings.js';
import { redactUrl, type Logger } from '../../services/eventd/sdk/index.js';

/** Reconnect delays: the first, the cap, and the random spread around each. */
export const backoff = { firstMs: 250, maxMs: 5000, jitter: 0.2 } as const;
/** How long a TCP/TLS connect plus CONNACK may take before the attempt counts as failed. */
const connectTimeoutMs = 10_000;
const keepaliveSeconds = 30;

export interface BrokerConnectionOptions {
  config: MqttConfig;
  clientId: string;
  /** The last will: published by the broker when this connection dies unannounced. */
  will: { topic: string; payload: string };
  logger: Logger;
  /** A connection is up (CONNACK accepted); publish on `client` until onDown. */
  onUp: (client: MqttClient) => void;
  /** The connection of the last onUp is gone. */
  onDown: () => void;
  /** An attempt failed or a live connection was lost (the connection-errors metric). */
  onError: (reason: string) => void;
}

export class BrokerConnection {
  private client: MqttClient | undefined;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delayMs: number = backoff.firstMs;
  private failures = 0;
  private lastReason = '';
  private readonly where: string;

  constructor(private readonly options: BrokerConnectionOptions) {
    this.where = redactUrl(options.config.url);
  }

  start(): void {
    this.attempt();
  }

  /** The connected client, if any. */
  get current(): MqttClient | undefined {
    return this.connected ? this.client : undefined;
  }

  /** No more attempts; returns the client of a live connection (to close cleanly), and drops any other. */
  stop(): MqttClient | undefined {
    this.stopped = true;
    clearTimeout(this.timer);
    const live = this.current;
    if (!live && this.client) this.client.end(true);
    return live;
  }

  private attempt(): void {
    if (this.stopped) return;
    let client: MqttClient;
    try {
      client = connect(this.options.config.url, this.clientOptions());
    } catch (error) {
      // An unreadable TLS file or a URL mqtt.js refuses: the same backoff as a broker that is away.
      this.failed(errorText(error), false);
      return;
    }
    this.client = client;
    let lastError: string | undefined;
    let closed = false;
    client.on('error', (error: Error) => void (lastError = errorText(error)));
    client.on('connect', () => {
      if (this.stopped || this.client !== client) return;
      this.connected = true;
      const after = this.failures;
      this.failures = 0;
      this.lastReason = '';
      this.delayMs = backoff.firstMs;
      this.options.logger.info({ broker: this.where, failedAttempts: after }, `mqtt: connected to ${this.where}${after > 0 ? ` after ${after} failed attempts` : ''}`);
      this.options.onUp(client);
    });
    client.on('close', () => {
      if (closed || this.client !== client) return;
      closed = true;
      const wasUp = this.connected;
      this.connected = false;
      this.client = undefined;
      client.end(true);
      if (wasUp) this.options.onDown();
      if (this.stopped) return;
      this.failed(lastError ?? (wasUp ? 'connection closed by the broker' : 'connection closed before CONNACK'), wasUp);
    });
  }

  private failed(reason: string, wasUp: boolean): void {
    this.failures++;
    this.options.onError(reason);
    const delay = Math.round(this.delayMs * (1 - backoff.jitter + Math.random() * 2 * backoff.jitter));
    this.delayMs = Math.min(backoff.maxMs, this.delayMs * 2);
    // One warning per outage and per new reason; repeats of the same failure go to debug.
    const line = wasUp
      ? `mqtt: connection to ${this.where} lost: ${reason}; reconnecting (events wait in the outbox)`
      : `mqtt: cannot connect to ${this.where}: ${reason}; retrying in ${delay} ms (events wait in the outbox)`;
    const fields = { broker: this.where, reason, attempt: this.failures, retryInMs: delay };
    if (wasUp || reason !== this.lastReason) this.options.logger.warn(fields, line);
    else this.options.logger.debug(fields, line);
    this.lastReason = reason;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  private clientOptions(): IClientOptions {
    const { config, clientId, will } = this.options;
    return {
      clientId,
      // The broker keeps our session across reconnects (DESIGN: a persistent, named client).
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: connectTimeoutMs,
      keepalive: keepaliveSeconds,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: config.qos, retain: true },
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      // Read at each attempt, so a certificate renewed on disk is picked up on the next connection.
      ...(config.ca === undefined ? {} : { ca: readPem('mqtt.ca', config.ca) }),
      ...(config.cert === undefined ? {} : { cert: readPem('mqtt.cert', config.cert) }),
      ...(config.key === undefined ? {} : { key: readPem('mqtt.key', config.key) }),
    };
  }
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(errorText).join('; ');
  return error instanceof Error ? error.message : String(error);
}

// MQTT brokers and clients for the bridge tests, all on loopback: aedes in
// the test process, Debian's mosquitto as a child process, and a recording
// mqtt.js subscriber.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { exitOf, killDeadlineMs, stopGraceMs } from './daemon.js';
import { GiveUp, waitFor } from './tmp.js';

/** A free TCP port on 127.0.0.1 (listened on, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * aedes on 127.0.0.1. stop() takes the broker off the network (listener
 * closed, every connection dropped) while its sessions, queued messages and
 * retained messages live on in memory, as a broker restarted with persistence;
 * start() brings it back on the same port.
 */
export class AedesBroker {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(readonly aedes: Aedes) {}

  static async start(): Promise<AedesBroker> {
    const broker = new AedesBroker(await Aedes.createBroker());
    await broker.listen(0);
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Listens again on the port it had. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.aedes.handle(socket);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }
}

export interface ReceivedMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An MQTT subscriber that records every message it receives, in arrival order. */
export class MqttRecorder {
  readonly messages: ReceivedMessage[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  }

  /** Connects and subscribes (QoS 1); `options` may make it a persistent session (clean: false, clientId). */
  static async connect(url: string, filter: string, options: IClientOptions = {}): Promise<MqttRecorder> {
    const client = connect(url, { reconnectPeriod: 100, connectTimeout: 5000, ...options });
    client.on('error', () => {}); // reconnects on its own; a test asserts on messages, not on the link
    const recorder = new MqttRecorder(client);
    await waitFor(`a connection to ${url}`, () => client.connected, 10_000);
    await client.subscribeAsync(filter, { qos: 1 });
    return recorder;
  }

  /** The first message (in arrival order) that matches, waiting until one does. */
  async waitFor(what: string, match: (message: ReceivedMessage) => boolean, timeoutMs = 15_000): Promise<ReceivedMessage> {
    return waitFor(what, () => this.messages.find(match), timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * Debian's mosquitto on 127.0.0.1:port, with persistence in `dir`, so
 * sessions and their queued messages survive stop() and start().
 */
export class MosquittoProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(readonly dir: string, readonly port: number) {
    const config = join(dir, 'mosquitto.conf');
    // `user root` keeps a root-started broker from dropping to the mosquitto
    // user, who could not write the persistence folder; as another user it does nothing.
    writeFileSync(config, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'user root',
      '',
    ].join('\n'));
  }

  async start(): Promise<void> {
    const marker = this.output.length;
    const child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await waitFor('mosquitto to run', () => {
      if (child.exitCode !== null) throw new GiveUp(`mosquitto exited ${child.exitCode}:\n${this.output}`);
      return this.output.slice(marker).includes(' running');
    }, 10_000);
  }

  /** SIGTERM: mosquitto writes its persistence file and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await exitOf(child, stopGraceMs)) return;
    child.kill('SIGKILL');
    if (!(await exitOf(child, killDeadlineMs))) throw new Error(`mosquitto (pid ${child.pid}) still running after SIGTERM and SIGKILL`);
    throw new Error(`mosquitto (pid ${child.pid}) ignored SIGTERM for ${stopGraceMs} ms and was killed`);
  }
}

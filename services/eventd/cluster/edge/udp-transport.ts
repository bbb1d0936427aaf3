// The cluster's wire: UDP datagrams between daemons, each one sealed frame.
//
// Why UDP and not TCP: heartbeats must keep their timing when the network is
// lossy or a peer is slow (no head-of-line blocking behind a stalled stream,
// no connection state to rebuild after a restart or partition), and the
// protocol core already repairs loss itself (anti-entropy pulls, periodic
// digests), so a reliable stream would buy nothing it needs. Frames are
// deflated before sealing and bounded to one datagram.
import type { Transport } from './transport.js';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Logger } from '../../logger.js';
import { open, seal } from './frame-seal.js';
import type { Keyring } from './keyring.js';
import { ReplayGuard } from './replay-guard.js';

/** Largest datagram we send: under the IPv4 UDP maximum (65,507), well over a frame of 16 events. */
export const maxDatagramBytes = 60_000;

export type DropReason = 'malformed' | 'unknown-key' | 'forged' | 'replay' | 'other-cluster' | 'too-large';

export interface UdpTransportOptions {
  host: string;
  port: number;
  node: string;
  cluster: string;
  keyring: Keyring;
  /** This process's start, strictly above any earlier one of this node (persisted by the caller). */
  boot: number;
  logger: Logger;
  onFrame: (from: string, address: string, body: unknown) => void;
  onDrop: (reason: DropReason, address: string) => void;
  /** Every datagram sent or received, for the bytes metric. */
  onBytes?: (direction: 'sent' | 'received', bytes: number) => void;
}

export class UdpTransport implements Transport {
  private socket: Socket | undefined;
  private counter = 0;
  private readonly guard = new ReplayGuard();
  /** Addresses already logged for an unknown key, so a stranger is one log line a minute, not one per heartbeat. */
  private readonly strangers = new Map<string, number>();
  /** Per peer address: the last send time it stamped and when we received it, echoed back so it can time the round trip. */
  private readonly lastStamp = new Map<string, { ts: number; receivedAt: number }>();
  /** Per peer name: the latest round-trip time measured, ms. */
  private readonly rtts = new Map<string, number>();

  constructor(private readonly options: UdpTransportOptions) {}

  /** Binds; resolves to "host:port" actually bound (port 0 picks one). */
  async start(): Promise<string> {
    const { host, port } = this.options;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.socket = socket;
    socket.on('message', (message: Buffer, remote: RemoteInfo) => this.receive(message, remote));
    socket.on('error', (error) => this.options.logger.error({ err: error }, 'cluster socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const address = socket.address();
    return formatAddress(address.address, address.port);
  }

  send(address: string, body: unknown): void {
    const socket = this.socket;
    if (!socket) return;
    const target = parseAddress(address);
    if (!target) return;
    this.counter += 1;
    const now = performance.now();
    const stamp = this.lastStamp.get(address);
    // NTP-style: our send time, and the peer's last stamp with how long we held it, so it can subtract our delay.
    const timing = { ts: now, ...(stamp ? { echo: stamp.ts, held: now - stamp.receivedAt } : {}) };
    const plain = { from: this.options.node, boot: this.options.boot, counter: this.counter, cluster: this.options.cluster, timing, body: deflateRawSync(JSON.stringify(body)).toString('base64') };
    const frame = seal(this.options.keyring, plain);
    if (frame.length > maxDatagramBytes) {
      this.options.onDrop('too-large', address);
      this.options.logger.error({ bytes: frame.length, to: address }, 'cluster frame larger than one datagram; not sent');
      return;
    }
    // Errors (no route, a peer's port closed) are UDP's normal life; the protocol repairs them.
    socket.send(frame, target.port, target.host, () => {});
    this.options.onBytes?.('sent', frame.length);
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private receive(message: Buffer, remote: RemoteInfo): void {
    const address = formatAddress(remote.address, remote.port);
    this.options.onBytes?.('received', message.length);
    const opened = open(this.options.keyring, message);
    if (!opened.ok) {
      this.options.onDrop(opened.reason, address);
      if (opened.reason === 'unknown-key') this.logStranger(address);
      return;
    }
    const { envelope } = opened;
    if (envelope.cluster !== this.options.cluster) {
      this.options.onDrop('other-cluster', address);
      return;
    }
    if (envelope.from === this.options.node && envelope.boot === this.options.boot) return; // our own, via a seed list naming us
    if (this.guard.check(envelope.from, envelope.boot, envelope.counter) !== 'fresh') {
      this.options.onDrop('replay', address);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(inflateRawSync(Buffer.from(String(envelope.body), 'base64')).toString('utf8'));
    } catch {
      this.options.onDrop('malformed', address);
      return;
    }
    this.time(envelope.from, address, (envelope as { timing?: unknown }).timing);
    this.options.onFrame(envelope.from, address, body);
  }

  /** The latest round trip to a peer (ms), once one was measured. */
  rttMs(name: string): number | undefined {
    return this.rtts.get(name);
  }

  private time(from: string, address: string, timing: unknown): void {
    if (typeof timing !== 'object' || timing === null) return;
    const { ts, echo, held } = timing as { ts?: unknown; echo?: unknown; held?: unknown };
    const now = performance.now();
    if (typeof ts === 'number') this.lastStamp.set(address, { ts, receivedAt: now });
    if (typeof echo === 'number' && typeof held === 'number' && held >= 0) {
      const rtt = now - echo - held;
      if (rtt >= 0 && rtt < 60_000) this.rtts.set(from, Math.round(rtt * 1000) / 1000);
    }
  }

  private logStranger(address: string): void {
    const now = Date.now();
    if ((this.strangers.get(address) ?? 0) > now - 60_000) return;
    this.strangers.set(address, now);
    this.options.logger.warn({ address }, `cluster frame from ${address} refused: sealed with a key not in cluster.keys (a node without the cluster key cannot join)`);
  }
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseAddress(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  return { host: match[1]!, port: Number(match[2]) };
}

// The cluster's wire: UDP datagrams between daemons, each one sealed frame.
//
// Why UDP and not TCP: heartbeats must keep their timing when the network is
// lossy or a peer is slow (no head-of-line blocking behind a stalled stream,
// no connection state to rebuild after a restart or partition), and the
// protocol core already repairs loss itself (anti-entropy pulls, periodic
// digests), so a reliable stream would buy nothing it needs. Frames are
// deflated before sealing and bounded to one datagram.
import type { SendResult, Transport } from './transport.js';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Logger } from '../../logger.js';
import { broadcastDomain, open, seal, type SealedEnvelope } from './frame-seal.js';
import type { Keyring } from './keyring.js';
import { kernelReceiveDrops } from './kernel-drops.js';
import { ReplayGuard, streamOf, type HighWater } from './replay-guard.js';

/** Largest datagram we send: under the IPv4 UDP maximum (65,507), well over a frame of 16 events. */
export const maxDatagramBytes = 60_000;

/**
 * A frame sealed more than this far from the receiver's clock (either way) is
 * refused as `expired`. It bounds what a replay can do to a receiver that lost
 * its store (and so its high-water marks); it tolerates clocks that are
 * seconds apart (the simulator's skew cases go to 1.6 s between two nodes)
 * and a peer busy for a while. Keep clocks in step with NTP.
 */
export const frameWindowMs = 30_000;

/** Socket buffers asked of the kernel (it caps them at net.core.rmem_max / wmem_max): a burst of full frames waits here, not on the floor. */
export const socketBufferBytes = 8 * 1024 * 1024;

export type DropReason =
  | 'malformed' | 'unknown-key' | 'forged' | 'other-cluster' | 'too-large'
  /** Replay protection (replay-guard.ts): a counter seen, a boot older than one seen, a counter below the window or the persisted high-water. */
  | 'replay' | 'stale-boot' | 'too-old'
  /** Sealed for another node: a frame relayed from elsewhere. */
  | 'wrong-recipient'
  /** Sealed outside frameWindowMs of our clock. */
  | 'expired'
  /** Ours, not sent: the kernel refused the datagram (send buffer full, no route). */
  | 'send-error';

/** An authenticated, fresh frame as the transport hands it on. */
export interface ReceivedFrame {
  from: string;
  /** Where the datagram came from (not authenticated: the caller decides whether to believe it). */
  address: string;
  boot: number;
  /** The replay stream (sender>domain) and its new high-water: the caller persists it in the step the frame drives. */
  stream: string;
  highWater: HighWater;
  body: unknown;
}

export interface UdpTransportOptions {
  host: string;
  port: number;
  node: string;
  cluster: string;
  keyring: Keyring;
  /** This process's start, strictly above any earlier one of this node (persisted by the caller). */
  boot: number;
  /** Each replay stream's high-water as the last run persisted it. */
  highWater?: ReadonlyMap<string, HighWater>;
  /** The wall clock (ms) stamped into frames and checked against frameWindowMs. */
  clock?: () => number;
  logger: Logger;
  onFrame: (frame: ReceivedFrame) => void;
  onDrop: (reason: DropReason, address: string) => void;
  /** Every datagram sent or received, for the bytes metric. */
  onBytes?: (direction: 'sent' | 'received', bytes: number) => void;
}

export class UdpTransport implements Transport {
  private socket: Socket | undefined;
  /** Per recipient domain: the last counter sealed for it in this boot. */
  private readonly counters = new Map<string, number>();
  private readonly guard: ReplayGuard;
  private readonly clock: () => number;
  private localPort = 0;
  /** Addresses already logged for an unknown key, so a stranger is one log line a minute, not one per heartbeat. */
  private readonly strangers = new Map<string, number>();
  /** Per peer address: the last send time it stamped and when we received it, echoed back so it can time the round trip. */
  private readonly lastStamp = new Map<string, { ts: number; receivedAt: number }>();
  /** Per peer name: the latest round-trip time measured, ms. */
  private readonly rtts = new Map<string, number>();

  constructor(private readonly options: UdpTransportOptions) {
    this.guard = new ReplayGuard(options.highWater);
    this.clock = options.clock ?? Date.now;
  }

  /** Binds; resolves to "host:port" actually bound (port 0 picks one). */
  async start(): Promise<string> {
    const { host, port } = this.options;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: socketBufferBytes, sendBufferSize: socketBufferBytes });
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
    this.localPort = address.port;
    return formatAddress(address.address, address.port);
  }

  /** Socket buffer sizes the kernel granted (bytes), once bound. */
  bufferSizes(): { receive: number; send: number } | undefined {
    const socket = this.socket;
    return socket ? { receive: socket.getRecvBufferSize(), send: socket.getSendBufferSize() } : undefined;
  }

  /** Datagrams the kernel dropped for our socket (receive buffer full), from /proc/net/udp; undefined where it cannot be read. */
  kernelDrops(): number | undefined {
    return this.localPort === 0 ? undefined : kernelReceiveDrops(this.localPort, this.options.host.includes(':'));
  }

  /** Seals `body` for node `to` (its own replay stream) and sends it to `address`. */
  send(address: string, to: string, body: unknown): SendResult {
    return this.sendSealed([address], to, body);
  }

  /** Seals `body` once for every node (broadcastDomain) and sends the same bytes to each address: a copy relayed to another of them is a replay there. */
  broadcast(addresses: readonly string[], body: unknown): void {
    if (this.sendSealed(addresses, broadcastDomain, body).sent) return;
    this.options.onDrop('too-large', addresses.join(','));
    this.options.logger.error({ to: addresses }, 'cluster frame larger than one datagram; not sent');
  }

  /** Not sent when the sealed frame would not fit one datagram. */
  private sendSealed(addresses: readonly string[], to: string, body: unknown): SendResult {
    const socket = this.socket;
    if (!socket) return { sent: true, bytes: 0 };
    const targets = addresses.map((address) => ({ address, target: parseAddress(address) }));
    const counter = (this.counters.get(to) ?? 0) + 1;
    this.counters.set(to, counter);
    const now = performance.now();
    const stamp = targets.length === 1 ? this.lastStamp.get(targets[0]!.address) : undefined;
    // NTP-style: our send time, and the peer's last stamp with how long we held it, so it can subtract our delay.
    const timing = { ts: now, ...(stamp ? { echo: stamp.ts, held: now - stamp.receivedAt } : {}) };
    const plain: SealedEnvelope & { timing: object } = {
      from: this.options.node, to, boot: this.options.boot, counter, sentAt: Math.round(this.clock()), cluster: this.options.cluster, timing,
      body: deflateRawSync(JSON.stringify(body)).toString('base64'),
    };
    const frame = seal(this.options.keyring, plain);
    if (frame.length > maxDatagramBytes) return { sent: false, bytes: frame.length };
    for (const { target } of targets) {
      if (!target) continue;
      // Errors (no route, a full send buffer) are UDP's normal life; the protocol repairs them, and they are counted.
      socket.send(frame, target.port, target.host, (error) => {
        if (error) this.options.onDrop('send-error', formatAddress(target.host, target.port));
      });
      this.options.onBytes?.('sent', frame.length);
    }
    return { sent: true, bytes: frame.length };
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
    if (envelope.to !== this.options.node && envelope.to !== broadcastDomain) {
      this.options.onDrop('wrong-recipient', address);
      return;
    }
    if (Math.abs(this.clock() - envelope.sentAt) > frameWindowMs) {
      this.options.onDrop('expired', address);
      return;
    }
    const stream = streamOf(envelope.from, envelope.to);
    const verdict = this.guard.check(stream, envelope.boot, envelope.counter, envelope.to === broadcastDomain);
    if (verdict !== 'fresh') {
      this.options.onDrop(verdict, address);
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
    const highWater = this.guard.highWater(stream) ?? { boot: envelope.boot, counter: envelope.counter };
    this.options.onFrame({ from: envelope.from, address, boot: envelope.boot, stream, highWater, body });
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

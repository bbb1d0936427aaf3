// A man in the middle on loopback: two UDP sockets in the test process that
// stand between two daemons, forwarding what each sends the other and keeping
// a copy of what one side sent, to replay anywhere later. Plus the helpers a
// replay test needs: a three-node cluster with the relay between n2 and n3,
// and the refusal counters read from /metrics.
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { parseAddress } from '../../services/eventd/cluster/edge/udp-transport.js';
import { clusterConfig, clusterKey, freeUdpPorts, type ClusterNodeHandle } from './cluster.js';
import { DaemonProcess } from './daemon.js';
import { setSwap } from './proc.js';

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

const addressOf = (socket: Socket): string => `127.0.0.1:${socket.address().port}`;

export class UdpRelay {
  /** Datagrams `a` sent towards `b`, in arrival order. */
  readonly captured: Buffer[] = [];
  capturing = true;

  private constructor(private readonly facingA: Socket, private readonly facingB: Socket, private readonly spare: Socket, private a: string, private b: string) {
    // What a sends to "b" (facingA) goes to b from facingB, so b sees the relay as a; and back.
    facingA.on('message', (message) => {
      if (this.capturing) this.captured.push(Buffer.from(message));
      this.forward(facingB, message, this.b);
    });
    facingB.on('message', (message) => this.forward(facingA, message, this.a));
  }

  static async start(): Promise<UdpRelay> {
    const [facingA, facingB, spare] = await Promise.all([bound(), bound(), bound()]);
    return new UdpRelay(facingA, facingB, spare, '', '');
  }

  /** The address `a` is told `b` lives at, and the one `b` is told `a` lives at. */
  get addressForA(): string {
    return addressOf(this.facingA);
  }
  get addressForB(): string {
    return addressOf(this.facingB);
  }
  /** The relay's third socket: replays sent from here come from an address no node knows. */
  get spareAddress(): string {
    return addressOf(this.spare);
  }

  connect(a: string, b: string): void {
    this.a = a;
    this.b = b;
  }

  /** Sends each datagram to `to`, from the spare socket; resolves once all were handed to the kernel. */
  async replay(datagrams: readonly Buffer[], to: string): Promise<void> {
    for (const datagram of datagrams) await this.sendFrom(this.spare, datagram, to);
  }

  async close(): Promise<void> {
    await Promise.all([this.facingA, this.facingB, this.spare].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }

  private forward(from: Socket, message: Buffer, to: string): void {
    if (to !== '') void this.sendFrom(from, message, to);
  }

  private sendFrom(socket: Socket, message: Buffer, to: string): Promise<void> {
    const target = parseAddress(to);
    if (!target) throw new Error(`not host:port: ${to}`);
    return new Promise((resolve) => socket.send(message, target.port, target.host, () => resolve()));
  }
}

/**
 * n1, n2, n3 on loopback with the relay between n2 and n3: n2 knows n3 only at
 * the relay, n3 knows n2 only at the relay, n1 knows both directly. Nothing
 * started yet. `extra`: each node's own config on top (query handlers, tags).
 */
export async function relayedCluster(dir: string, relay: UdpRelay, key = clusterKey(), extra: (name: string) => Record<string, unknown> = () => ({})): Promise<ClusterNodeHandle[]> {
  const ports = await freeUdpPorts(3);
  const real = ports.map((port) => `127.0.0.1:${port}`);
  relay.connect(real[1]!, real[2]!);
  const peersOf: Record<string, string[]> = {
    n1: real,
    n2: [real[0]!, real[1]!, relay.addressForA],
    n3: [real[0]!, relay.addressForB, real[2]!],
  };
  return ['n1', 'n2', 'n3'].map((name, index): ClusterNodeHandle => {
    const nodeDir = join(dir, name);
    const procRoot = join(nodeDir, 'proc');
    setSwap(procRoot, 10);
    const daemon = DaemonProcess.withConfig(nodeDir, clusterConfig(nodeDir, name, procRoot, ports[index]!, peersOf[name]!, key, extra(name)));
    return { name, daemon, procRoot, udp: real[index]! };
  });
}

/** eventd_cluster_frames_dropped_total by reason, from the daemon's /metrics. */
export async function dropsByReason(daemon: DaemonProcess): Promise<Record<string, number>> {
  const { body } = await daemon.request<string>('GET', '/metrics');
  const out: Record<string, number> = {};
  for (const match of String(body).matchAll(/^eventd_cluster_frames_dropped_total\{reason="([^"]+)"\} (\d+)/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

/** One metric's value (no labels), from /metrics. */
export async function metricValue(daemon: DaemonProcess, name: string): Promise<number | undefined> {
  const { body } = await daemon.request<string>('GET', '/metrics');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(String(body));
  return match ? Number(match[1]) : undefined;
}

/** The refusals replay protection counts. */
export const replayReasons = ['replay', 'stale-boot', 'too-old', 'wrong-recipient', 'expired'] as const;

export const replayRefusals = (drops: Record<string, number>): number => replayReasons.reduce((sum, reason) => sum + (drops[reason] ?? 0), 0);

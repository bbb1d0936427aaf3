// N daemons on loopback whose every pair talks through a relay in the test
// process, so a test cuts any set of links (both directions) and heals them:
// a partition without namespaces. Node i is told node j lives at a relay
// socket; what arrives there goes on to j from the socket j knows as i.
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { clusterConfig, clusterKey, freeUdpPorts, type ClusterNodeHandle } from './cluster.js';
import type { Hooks } from './cleanup.js';
import { defer } from './cleanup.js';
import { DaemonProcess } from './daemon.js';
import { setSwap } from './proc.js';

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

export class CutMesh {
  /** "i>j" -> the socket i sends to when it means j. */
  private readonly sockets = new Map<string, Socket>();
  private readonly cut = new Set<string>();
  /** Datagrams dropped by cuts so far. */
  dropped = 0;

  private constructor(private readonly names: readonly string[], private readonly real: Map<string, number>) {}

  /** Relay sockets for every ordered pair of `names`, forwarding to the nodes' real UDP ports. */
  static async start(names: readonly string[], t: Hooks): Promise<CutMesh> {
    const ports = await freeUdpPorts(names.length);
    const mesh = new CutMesh(names, new Map(names.map((name, i) => [name, ports[i] as number])));
    for (const from of names) for (const to of names) if (from !== to) mesh.sockets.set(`${from}>${to}`, await bound());
    for (const [link, socket] of mesh.sockets) {
      const [from, to] = link.split('>') as [string, string];
      // Sent by `from` meaning `to`: leaves from the socket `to` knows as `from`.
      socket.on('message', (message) => {
        if (mesh.cut.has(`${from}|${to}`)) {
          mesh.dropped += 1;
          return;
        }
        mesh.sockets.get(`${to}>${from}`)?.send(message, mesh.real.get(to) as number, '127.0.0.1');
      });
    }
    defer(t, () => mesh.close());
    return mesh;
  }

  /** The peer list of `name`: its own real address and a relay address for every other node. */
  peersOf(name: string): string[] {
    return this.names.map((other) => (other === name ? `127.0.0.1:${this.real.get(name) as number}` : `127.0.0.1:${this.sockets.get(`${name}>${other}`)?.address().port ?? 0}`));
  }

  port(name: string): number {
    return this.real.get(name) as number;
  }

  /** Cuts every link between a node of `side` and a node outside it, both ways. */
  isolate(side: readonly string[]): void {
    for (const a of this.names) for (const b of this.names) if (side.includes(a) !== side.includes(b)) this.cut.add(`${a}|${b}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Daemons configured over the mesh (started by the caller). */
  daemons(dir: string, t: Hooks, extra: Record<string, unknown> = {}): ClusterNodeHandle[] {
    const key = clusterKey();
    return this.names.map((name) => {
      const nodeDir = join(dir, name);
      const procRoot = join(nodeDir, 'proc');
      setSwap(procRoot, 10);
      const daemon = DaemonProcess.withConfig(nodeDir, clusterConfig(nodeDir, name, procRoot, this.port(name), this.peersOf(name), key, extra), t);
      return { name, daemon, procRoot, udp: `127.0.0.1:${this.port(name)}` };
    });
  }

  private async close(): Promise<void> {
    await Promise.all([...this.sockets.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }
}

// N real daemons on loopback forming one cluster, each with its own data dir
// and recorded proc root (so a test moves one node's paging space).
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import type { EventRecord } from '../../services/eventd/types.js';
import type { Hooks } from './cleanup.js';
import { DaemonProcess } from './daemon.js';
import { setSwap } from './proc.js';

export interface ClusterNodeHandle {
  name: string;
  daemon: DaemonProcess;
  procRoot: string;
  udp: string;
}

/** Free UDP ports on 127.0.0.1, found by binding port 0 and letting go. */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createSocket>>((resolve) => {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1', () => resolve(socket));
    })),
  );
  const ports = sockets.map((socket) => socket.address().port);
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  return ports;
}

export function clusterKey(): string {
  return randomBytes(32).toString('base64');
}

export interface ClusterOptions {
  key?: string;
  /** Extra daemon config merged at the top level: the same for every node, or per node name. */
  extra?: Record<string, unknown> | ((name: string) => Record<string, unknown>);
  /** Start only these now (the others are configured, in every peer list, and started by the test). */
  only?: readonly string[];
  /** The test owning the daemons: each is disposed of on its cleanup stack. */
  t?: Hooks;
}

/** Writes the configs and starts every node; resolves once each is listening (not yet once the view formed). */
export async function startCluster(dir: string, names: readonly string[], options: ClusterOptions = {}): Promise<ClusterNodeHandle[]> {
  const key = options.key ?? clusterKey();
  const ports = await freeUdpPorts(names.length);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const nodes = names.map((name, index): ClusterNodeHandle => {
    const nodeDir = join(dir, name);
    const procRoot = join(nodeDir, 'proc');
    setSwap(procRoot, 10);
    const daemon = DaemonProcess.withConfig(nodeDir, clusterConfig(nodeDir, name, procRoot, ports[index]!, peers, key, typeof options.extra === 'function' ? options.extra(name) : options.extra), options.t);
    return { name, daemon, procRoot, udp: peers[index]! };
  });
  await Promise.all(nodes.filter((node) => !options.only || options.only.includes(node.name)).map((node) => node.daemon.start()));
  return nodes;
}

export function clusterConfig(nodeDir: string, name: string, procRoot: string, port: number, peers: string[], key: string, extra: Record<string, unknown> = {}) {
  return {
    node: name,
    dataDir: join(nodeDir, 'data'),
    procRoot,
    api: { port: 0 },
    producers: { PagingSpace: { periodMs: 100 } },
    log: { level: 'info' },
    cluster: { name: 'test', bind: { host: '127.0.0.1', port }, keys: [key], peers },
    ...extra,
  };
}

export async function events(daemon: DaemonProcess, query = ''): Promise<EventRecord[]> {
  return (await daemon.request<{ events: EventRecord[] }>('GET', `/v1/events${query}`)).body.events;
}

export async function view(daemon: DaemonProcess): Promise<string[]> {
  return (await daemon.request<{ view: string[] }>('GET', '/v1/members')).body.view;
}

// N real eventd daemons on loopback forming one cluster (the same config as
// the end-to-end tests: own data dir, own recorded proc root, UDP on
// 127.0.0.1), with the benchmark's SSE stream open on each.
import { benchEventClasses } from './raise-phases.js';
import { join } from 'node:path';
import { clusterConfig, clusterKey, freeUdpPorts } from '../../test/helpers/cluster.js';
import { authHeader } from '../../test/helpers/api-token.js';
import { DaemonProcess } from '../../test/helpers/daemon.js';
import { setSwap } from '../../test/helpers/proc.js';
import { waitFor } from '../../test/helpers/tmp.js';
import { onCleanup } from './cleanup.js';
import { EventStreams } from './event-streams.js';

export interface EventdNode {
  name: string;
  daemon: DaemonProcess;
  procRoot: string;
  /** Logs of earlier runs of this node (a restart starts a fresh log). */
  earlierLogs: string[];
}

export interface Member {
  name: string;
  state: string;
}

export class EventdCluster {
  readonly streams = new EventStreams();

  private constructor(readonly nodes: EventdNode[]) {}

  /** Starts `count` daemons (n1..nN) under `dir` with PagingSpace sampled every `periodMs`; resolves once each listens, with its stream requested. */
  static async start(dir: string, count: number, periodMs: number): Promise<EventdCluster> {
    const key = clusterKey();
    const ports = await freeUdpPorts(count);
    const peers = ports.map((port) => `127.0.0.1:${port}`);
    const extra = { producers: { PagingSpace: { periodMs } }, events: { classes: benchEventClasses } };
    const nodes = ports.map((port, index): EventdNode => {
      const name = `n${index + 1}`;
      const nodeDir = join(dir, name);
      const procRoot = join(nodeDir, 'proc');
      setSwap(procRoot, 10);
      const daemon = DaemonProcess.withConfig(nodeDir, clusterConfig(nodeDir, name, procRoot, port, peers, key, extra));
      onCleanup(() => void daemon.kill9());
      return { name, daemon, procRoot, earlierLogs: [] };
    });
    await Promise.all(nodes.map((node) => node.daemon.start()));
    const cluster = new EventdCluster(nodes);
    onCleanup(() => cluster.streams.closeAll());
    for (const node of nodes) cluster.streams.connect(node.name, node.daemon.url, authHeader(node.daemon.configFile));
    return cluster;
  }

  node(name: string): EventdNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  async members(node: EventdNode): Promise<{ view: string[]; members: Member[] }> {
    return (await node.daemon.request<{ view: string[]; members: Member[] }>('GET', '/v1/members')).body;
  }

  /** Waits until every running node's view holds all `size` nodes. */
  async waitForView(size: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(`a view of ${size} on every node`, async () => {
      const views = await Promise.all(this.nodes.map(async (node) => (await this.members(node)).view.length));
      return views.every((length) => length === size);
    }, timeoutMs, 20);
  }

  /** kill -9 (SIGKILL is sent before this returns its promise). */
  kill9(node: EventdNode): Promise<void> {
    const exited = node.daemon.kill9();
    this.streams.disconnect(node.name);
    return exited;
  }

  /** Starts a killed node again with the same config (resolves once it listens) and reopens its stream where it left off. */
  async restart(node: EventdNode): Promise<void> {
    node.earlierLogs.push(node.daemon.log);
    await node.daemon.start();
    this.streams.connect(node.name, node.daemon.url, authHeader(node.daemon.configFile));
  }

  /** SIGTERM, and kill -9 for a daemon still running 5 s later. */
  async stop(): Promise<void> {
    this.streams.closeAll();
    await Promise.all(this.nodes.map(async (node) => {
      const stopped = node.daemon.stop();
      const timer = setTimeout(() => void node.daemon.kill9(), 5000);
      await stopped;
      clearTimeout(timer);
    }));
  }

  /** Log lines at warn (40) or above, of every run of every node. */
  problems(): { node: string; level: number; msg: string }[] {
    const found: { node: string; level: number; msg: string }[] = [];
    for (const node of this.nodes) {
      for (const log of [...node.earlierLogs, node.daemon.log]) {
        for (const line of log.split('\n')) {
          if (line.trim() === '') continue;
          let record: { level?: number; msg?: string; err?: { message?: string } };
          try {
            record = JSON.parse(line) as typeof record;
          } catch {
            found.push({ node: node.name, level: 50, msg: `(not JSON) ${line.slice(0, 200)}` });
            continue;
          }
          if ((record.level ?? 0) >= 40) {
            found.push({ node: node.name, level: record.level ?? 0, msg: `${record.msg ?? ''}${record.err?.message ? `: ${record.err.message}` : ''}` });
          }
        }
      }
    }
    return found;
  }
}

export interface ClusterCounters {
  framesSent: Map<string, number>;
  bytesSent: number;
  bytesReceived: number;
}

/** The cluster counters of one node's /metrics. */
export async function clusterCounters(node: EventdNode): Promise<ClusterCounters> {
  const { body } = await node.daemon.request<string>('GET', '/metrics');
  const counters: ClusterCounters = { framesSent: new Map(), bytesSent: 0, bytesReceived: 0 };
  for (const line of String(body).split('\n')) {
    const match = /^(eventd_cluster_frames_total|eventd_cluster_bytes_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const value = Number(match[3]);
    if (match[1] === 'eventd_cluster_frames_total' && labels['direction'] === 'sent') {
      const type = labels['type'] ?? '?';
      counters.framesSent.set(type, (counters.framesSent.get(type) ?? 0) + value);
    } else if (match[1] === 'eventd_cluster_bytes_total') {
      if (labels['direction'] === 'sent') counters.bytesSent += value;
      if (labels['direction'] === 'received') counters.bytesReceived += value;
    }
  }
  return counters;
}

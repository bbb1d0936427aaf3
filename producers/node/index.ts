// Node: one sample per cluster peer, from the member table the cluster edge
// writes into the data folder each heartbeat (as the kernel writes /proc: the
// producer only reads). Dumb like the others: no thresholds here; "down" is
// a subscription (lastHeardMs > 800) or the membership consumer's events.
import { join } from 'node:path';
import { readOptional, type RawSample } from '../../services/eventd/sdk/index.js';

export const membersFile = 'cluster-members.json';

interface MemberTable {
  writtenAt: number;
  peers: { name: string; state: string; incarnation: number | null; rttMs: number | null; lastHeardAt: number | null }[];
}

/** Samples from the table's text at `now` (ms); a peer never heard has no lastHeardMs. */
export function nodeSamples(text: string | undefined, now: number): RawSample[] {
  if (text === undefined) return [];
  const table = JSON.parse(text) as MemberTable;
  return table.peers.map((peer) => ({
    resource: peer.name,
    attrs: {
      ...(peer.lastHeardAt === null ? {} : { lastHeardMs: Math.max(0, now - peer.lastHeardAt) }),
      ...(peer.rttMs === null ? {} : { rttMs: peer.rttMs }),
      ...(peer.incarnation === null ? {} : { incarnation: peer.incarnation }),
      state: peer.state,
    },
  }));
}

export default {
  async sample(ctx: { dataDir?: string }): Promise<RawSample[]> {
    // No data folder (a dry run) or no cluster (no table): nothing to report.
    if (ctx.dataDir === undefined) return [];
    return nodeSamples(await readOptional(join(ctx.dataDir, membersFile)), Date.now());
  },
};

// Cluster cores wired by hand for targeted core tests: every frame one core
// sends is stepped into its recipient at once (no loss, no delay), breadth
// first, until the cluster is quiet. No timer runs in between, so a test sees
// what one input causes without any heartbeat's help.
import type { ClusterCore } from '../../services/eventd/cluster/core/core.js';
import type { CoreInput, CoreOutput } from '../../services/eventd/cluster/core/io.js';

export interface CoreWire {
  /** Steps `input` into `name`, then every frame it causes; returns every output of the cascade, per node. */
  step: (name: string, input: CoreInput, now: number) => Map<string, CoreOutput[]>;
  /** Every output of every node since the wire was made. */
  seen: Map<string, CoreOutput[]>;
  /** Dropped while listed: every frame from or to a node ("b"), or one direction of a link ("a>b"). */
  cut: Set<string>;
}

export function wireCores(cores: Map<string, ClusterCore>, maxSteps = 10_000): CoreWire {
  const seen = new Map<string, CoreOutput[]>([...cores.keys()].map((n) => [n, []]));
  const cut = new Set<string>();
  const step = (name: string, input: CoreInput, now: number): Map<string, CoreOutput[]> => {
    const cascade = new Map<string, CoreOutput[]>([...cores.keys()].map((n) => [n, []]));
    const queue: [string, CoreInput][] = [[name, input]];
    for (let i = 0; i < queue.length; i += 1) {
      if (i >= maxSteps) throw new Error(`no quiet after ${maxSteps} steps (a frame ping-pong?)`);
      const [at, next] = queue[i]!;
      const out = cores.get(at)!.step(next, now);
      cascade.get(at)!.push(...out);
      seen.get(at)!.push(...out);
      for (const o of out) {
        if (o.type !== 'send' || !cores.has(o.to) || cut.has(at) || cut.has(o.to) || cut.has(`${at}>${o.to}`)) continue;
        queue.push([o.to, { type: 'frame', frame: o.frame }]);
      }
    }
    return cascade;
  };
  return { step, seen, cut };
}

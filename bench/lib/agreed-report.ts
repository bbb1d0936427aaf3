// The agreed-order phases (issue 12) run and printed: delivery latency on 5
// daemons (agreed beside FIFO, interleaved in the same run) and heal ->
// identical on 3 (beside heal -> every node holds every event).
import { join } from 'node:path';
import { measureAgreedCrossings, measureAgreedRaises, type OrderLatency } from './agreed-phases.js';
import { measureHeal, type HealRun } from './agreed-heal.js';
import { EventdCluster } from './eventd-cluster.js';
import { median, ms, percentile } from './stats.js';

export interface AgreedOptions {
  /** Raises per order, and crossings. */
  raises: number;
  healRepeats: number;
  partitionMs: number;
}

const nodeCount = 5;
const periodMs = 20;

export async function runAgreed(dir: string, options: AgreedOptions, step: (line: string) => void): Promise<string> {
  step(`agreed: starting ${nodeCount} daemons (PagingSpace every ${periodMs} ms)`);
  const cluster = await EventdCluster.start(join(dir, 'latency'), nodeCount, periodMs);
  let latency: Awaited<ReturnType<typeof measureAgreedRaises>>;
  let crossings: Awaited<ReturnType<typeof measureAgreedCrossings>>;
  try {
    await cluster.waitForView(nodeCount);
    const warmup = nodeCount;
    step(`agreed: ${options.raises} raises per order (+${warmup} warm-up), fifo and agreed interleaved, origins in turn`);
    latency = await measureAgreedRaises(cluster, options.raises, warmup);
    step(`agreed: ${options.raises} threshold crossings (+${warmup} warm-up), each seen by a fifo and an agreed cluster subscription`);
    crossings = await measureAgreedCrossings(cluster, options.raises, warmup);
  } finally {
    await cluster.stop();
  }
  step(`agreed: heal -> identical, 3 daemons over a cutting relay, ${options.healRepeats} cuts of ${options.partitionMs} ms`);
  const heals = await measureHeal(join(dir, 'heal'), options.healRepeats, options.partitionMs, step);
  return report(latency, crossings, heals, options);
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function latencyRows(label: string, fifo: OrderLatency, agreed: OrderLatency): string[][] {
  const figures: [string, (v: number[]) => number][] = [['p50', median], ['p99', (v) => percentile(v, 0.99)], ['max', (v) => (v.length ? Math.max(...v) : NaN)]];
  return figures.map(([name, f]) => [`${label}, ${name}`, ms(f(fifo.toAll)), ms(f(agreed.toAll)), ms(f(agreed.toAll) - f(fifo.toAll))]);
}

function perNode(latency: OrderLatency): string {
  return [...latency.perNode].map(([node, values]) => `${node} ${ms(median(values))}`).join(', ');
}

function report(latency: Awaited<ReturnType<typeof measureAgreedRaises>>, crossings: Awaited<ReturnType<typeof measureAgreedCrossings>>, heals: HealRun[], options: AgreedOptions): string {
  const { raises } = latency;
  const out: string[] = [''];
  out.push(`agreed order (${nodeCount} daemons on 127.0.0.1; FIFO is the baseline, measured the same way, interleaved with agreed in the same run):`);
  out.push(...table(['metric', 'FIFO', 'agreed', 'agreed - FIFO'], [
    ...latencyRows(`raise -> delivered on all ${nodeCount}`, raises.fifo, raises.agreed),
    ...latencyRows(`swap crossing -> delivered on all ${nodeCount}`, crossings.fifo, crossings.agreed),
  ]));
  out.push(`  delivered = on the node's SSE stream (agreed: with its position, the same on every node); raise = POST /v1/events sent; crossing = swap file written (includes the wait for the next ${periodMs} ms sample)`);
  out.push(`  raise -> delivered, p50 per node: FIFO ${perNode(raises.fifo)}; agreed ${perNode(raises.agreed)} (n1 is the sequencer)`);
  out.push(`  not on every node within 5 s: raises FIFO ${raises.fifo.lost}, agreed ${raises.agreed.lost}; crossings FIFO ${crossings.fifo.lost}, agreed ${crossings.agreed.lost}; agreed events without one position everywhere: ${raises.agreed.badPositions + crossings.agreed.badPositions}`);
  out.push(`  GET /v1/events?subscription=raise after the raises: ${latency.listed} agreed raises, ${latency.listingsIdentical ? 'the same ids and positions on every node' : 'NOT identical on every node'}`);
  out.push('');
  const held = heals.map((h) => h.heldMs);
  const identical = heals.map((h) => h.identicalMs);
  const rejoined = heals.map((h) => h.rejoinedMs);
  const max = (v: number[]) => (v.length ? Math.max(...v) : NaN);
  out.push(`heal after a ${(options.partitionMs / 1000).toFixed(0)} s partition of one node (3 daemons, every link through a relay that cuts; ${heals.length} cuts, victims in turn; baseline = every node holds every event):`);
  out.push(...table(['metric', 'p50', 'max'], [
    ['heal -> every node holds every event (baseline)', ms(median(held)), ms(max(held))],
    ['heal -> Cluster view re-admitting the node, on all 3', ms(median(rejoined)), ms(max(rejoined))],
    ['heal -> identical agreed sequences, positions included', ms(median(identical)), ms(max(identical))],
  ]));
  for (const h of heals) {
    out.push(`  cut ${h.victim}: ${h.raised} agreed raised (${h.raisedCutOff} on the cut-off side); held ${ms(h.heldMs)}, re-admitted ${ms(h.rejoinedMs)}, identical ${ms(h.identicalMs)}; GET /v1/events identical on all 3: ${h.listingsIdentical ? 'yes' : 'NO'}`);
  }
  return out.join('\n');
}

// The invariants of DESIGN.md "Cluster core", checked on a finished trace.
// Each message names the seed, the node, the origin and the seq.
//
// 1. Integrity: a delivered event is one an origin recorded, unaltered.
// 2. No duplicates: a node delivers an event at most once (across restarts).
// 3. Per-origin FIFO without gaps: at every node, the k-th delivered event of
//    origin o in one order class is o's k-th recorded event of that class.
// 4. Positions: a node's agreed deliveries (events and Cluster views) come at
//    positions 1, 2, 3, ... in order, across restarts.
// 5. One agreed sequence: whatever position p held at one node, it holds at
//    every node that delivered p (the same event, the same view); so every
//    node's agreed deliveries are a prefix of one sequence.
// 5b. A minority never commits: no node that hears no majority component
//    (counting crashed nodes in, whose stores keep their acks; frames already
//    in flight at the cut aside) is the first to commit a
//    position, so a node cut off delivers only what a primary committed; and a
//    position is delivered only once a majority of the configured nodes
//    persisted the same decision there.
// 6. No loss: every node up at the end delivered every event recorded by an
//    origin up at the end, and every event any of them delivered.
// 7. Identical agreed sequences (positions included) on every node up at the end.
// 8. Views converge: every node up at the end has the view "nodes up at the end".
// 9. Subscriptions converge: equal maps on nodes up at the end, holding the
//    newest write of each node up at the end, and only real writes.
// 10. Replays refused: no frame reached a core twice (duplicates, the attacker's replays).

import { compareKeys, type ClusterEvent } from '../../services/eventd/cluster/core/index.js';
import type { Trace } from './trace.js';

const idOf = (e: { origin: string; seq: number }): string => `${e.origin}:${e.seq}`;
const sameEvent = (a: ClusterEvent, b: ClusterEvent): boolean =>
  a.hlc === b.hlc && a.order === b.order && JSON.stringify(a.payload) === JSON.stringify(b.payload);

export function checkTrace(trace: Trace, limit = 12): string[] {
  const problems: string[] = [];
  const say = (message: string): void => {
    if (problems.length < limit) problems.push(`seed ${trace.seed}: ${message}`);
  };

  const recorded = new Map<string, { t: number; event: ClusterEvent }>();
  const streams = new Map<string, number[]>(); // "origin/order" -> seqs in record order
  for (const r of trace.recorded) {
    recorded.set(idOf(r.event), r);
    const stream = `${r.event.origin}/${r.event.order}`;
    const seqs = streams.get(stream);
    if (seqs === undefined) streams.set(stream, [r.event.seq]);
    else seqs.push(r.event.seq);
  }

  /** position -> what the first node to deliver it had there. */
  const sequence = new Map<number, { label: string; node: string; t: number }>();
  let committedAnywhere = 0;
  for (const c of [...trace.commits].sort((a, b) => a.t - b.t)) {
    if (c.position <= committedAnywhere) continue;
    if (c.cutOffSince !== undefined && c.t - c.cutOffSince > trace.inFlightMs) {
      say(`node ${c.node}, cut off from every majority since t=${c.cutOffSince}, committed positions ${committedAnywhere + 1}..${c.position} at t=${c.t}`);
    }
    committedAnywhere = c.position;
  }
  /** Checks one agreed delivery (event or view) at `position` on `node`: 4, 5, 5b. */
  const placed = (node: string, agreed: string[], position: number | undefined, label: string, t: number, persistedBy: number | undefined): void => {
    if (persistedBy !== undefined && 2 * persistedBy <= trace.configured) say(`node ${node} delivered ${label} at position ${position ?? '?'} at t=${t} when only ${persistedBy} of ${trace.configured} nodes had persisted it`);
    agreed.push(label);
    if (position !== agreed.length) say(`node ${node} delivered agreed ${label} at position ${position ?? '(none)'} at t=${t}, where position ${agreed.length} was due`);
    if (position === undefined) return;
    const first = sequence.get(position);
    if (first === undefined) sequence.set(position, { label, node, t });
    else if (first.label !== label) say(`position ${position} differs: ${first.node} delivered ${first.label} (t=${first.t}), ${node} delivered ${label} (t=${t})`);
  };
  const deliveredBy = new Map<string, Set<string>>();
  const agreedBy = new Map<string, string[]>();

  for (const node of trace.nodes) {
    const delivered = new Set<string>();
    const agreed: string[] = [];
    const cursor = new Map<string, number>();
    deliveredBy.set(node, delivered);
    agreedBy.set(node, agreed);
    for (const entry of trace.logs[node] ?? []) {
      if (entry.kind === 'cluster') {
        placed(node, agreed, entry.position, `view ${entry.epoch} [${entry.members.join(',')}]`, entry.t, entry.persistedBy);
        continue;
      }
      if (entry.kind !== 'deliver') continue;
      const event = entry.event;
      const id = idOf(event);
      const origin = recorded.get(id);
      if (origin === undefined) {
        say(`node ${node} delivered ${id} at t=${entry.t}, which no origin recorded`);
        continue;
      }
      if (!sameEvent(origin.event, event)) say(`node ${node} delivered ${id} altered (recorded hlc ${origin.event.hlc}, got ${event.hlc})`);
      if (delivered.has(id)) {
        say(`node ${node} delivered ${id} twice (again at t=${entry.t})`);
        continue;
      }
      delivered.add(id);

      const stream = `${event.origin}/${event.order}`;
      const seqs = streams.get(stream) ?? [];
      const k = cursor.get(stream) ?? 0;
      if (seqs[k] !== event.seq) {
        say(`node ${node} broke ${event.order} FIFO of origin ${event.origin}: delivered seq ${event.seq} at t=${entry.t} where seq ${seqs[k] ?? '(none)'} was due`);
      }
      cursor.set(stream, Math.max(k, seqs.indexOf(event.seq)) + 1);

      if (event.order !== 'agreed') {
        if (entry.position !== undefined) say(`node ${node} delivered fifo ${id} with a position (${entry.position})`);
        continue;
      }
      placed(node, agreed, entry.position, id, entry.t, entry.persistedBy);
    }
  }

  // 10. Replays: no frame reached a core twice, or a node it was not sealed for.
  if (trace.replays !== undefined && trace.replays.admitted > 0) say(`${trace.replays.admitted} frames admitted a second time (${trace.replays.sent} replayed)`);

  const live = trace.live;
  const liveSet = new Set(live);
  // 6. No loss.
  const seenByLive = new Set<string>();
  for (const node of live) for (const id of deliveredBy.get(node) ?? []) seenByLive.add(id);
  for (const { t, event } of trace.recorded) {
    const id = idOf(event);
    if (!liveSet.has(event.origin) && !seenByLive.has(id)) continue;
    for (const node of live) {
      if (!deliveredBy.get(node)?.has(id)) say(`node ${node} never delivered ${event.order} ${id} (recorded at t=${t}${liveSet.has(event.origin) ? '' : ', origin down at the end but delivered elsewhere'})`);
    }
  }
  // 7. Identical agreed sequences, positions included (4 makes the index the position).
  const [first, ...others] = live;
  if (first !== undefined) {
    const reference = agreedBy.get(first) ?? [];
    for (const node of others) {
      const mine = agreedBy.get(node) ?? [];
      const at = firstDifference(reference, mine);
      if (at !== undefined) {
        say(`agreed sequences differ between ${first} and ${node} at position ${at + 1}: ${reference[at] ?? '(end)'} vs ${mine[at] ?? '(end)'}`);
      }
    }
  }
  // 8. Views converge.
  const expected = [...live].sort().join(',');
  for (const node of live) {
    const view = (trace.finalViews[node] ?? []).join(',');
    if (view !== expected) say(`node ${node} ends with view [${view}], expected [${expected}]`);
  }
  // 9. Subscriptions converge.
  const render = (node: string): string => JSON.stringify([...(trace.finalSubscriptions[node] ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1)));
  if (first !== undefined) {
    for (const node of others) if (render(node) !== render(first)) say(`subscription maps differ between ${first} and ${node}: ${render(first)} vs ${render(node)}`);
    const final = new Map((trace.finalSubscriptions[first] ?? []).map((e) => [e.id, e]));
    for (const write of trace.subscriptionWrites) {
      if (!liveSet.has(write.node)) continue;
      const held = final.get(write.entry.id);
      if (held === undefined || compareKeys({ hlc: held.version.hlc, origin: held.version.node, seq: 0 }, { hlc: write.entry.version.hlc, origin: write.entry.version.node, seq: 0 }) < 0) {
        say(`subscription ${write.entry.id} written at ${write.node} t=${write.t} (version ${write.entry.version.hlc}) was lost`);
      }
    }
    for (const entry of final.values()) {
      const real = trace.subscriptionWrites.some((w) => w.entry.id === entry.id && w.entry.version.hlc === entry.version.hlc
        && w.entry.version.node === entry.version.node && JSON.stringify(w.entry.value) === JSON.stringify(entry.value));
      if (!real) say(`subscription ${entry.id} holds a version nobody wrote: ${JSON.stringify(entry)}`);
    }
  }
  return problems;
}

function firstDifference(a: readonly string[], b: readonly string[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) if (a[i] !== b[i]) return i;
  return undefined;
}

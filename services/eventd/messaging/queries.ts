// Queries (Serf's `serf query`): ask the matching nodes, collect their acks
// and answers as they come, and say at the end who did not answer. A query
// is a request, not a fact: nothing of it goes into the event log or the
// ordering core. It travels as its own frame kinds over the cluster's sealed,
// replay-checked transport (query-frames.ts); a node runs a received query
// once (a replayed frame is refused by the transport, and a repeated id is
// dropped here too) and only when the scope names it and its own current
// tags hold the filter. A node that matches but has no handler acks and
// answers an error (`no-handler`) at once, so the asker need not wait.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { MonitorFeed } from './monitor-feed.js';
import { parseQueryFrame, queryBounds, type HandlerAnswer, type QueryAnswerFrame, type QueryWireFrame } from './query-frames.js';
import type { QueryHandlers } from './query-handler.js';
import type { QueryRequest } from './query-request.js';
import { QueryTally, type AnswerInput, type QueryLine, type QuerySummary } from './query-tally.js';
import { witnessTag, type TagService } from './tags.js';

export type QuerySendResult = 'sent' | 'too-large' | 'unreachable';

/** What a query needs of the cluster's edge (absent on a single node). */
export interface QueryNetwork {
  /** Seals and sends one frame to a member; never throws. */
  send(to: string, frame: QueryWireFrame): QuerySendResult;
  /** Every member this node knows of (up or down), itself excluded. */
  peers(): string[];
}

export interface QueryServiceOptions {
  node: string;
  handlers: QueryHandlers;
  tags: Pick<TagService, 'matching' | 'matchesHere' | 'isWitness'>;
  /** This node is a witness: it answers only a query that names it or asks for witness=true. */
  witness?: boolean;
  network?: QueryNetwork;
  metrics: Metrics;
  logger: Logger;
  /** `eventctl monitor`: queries asked here, their summaries, and queries this node answers. */
  monitor?: Pick<MonitorFeed, 'publish' | 'wanted'>;
}

export interface AskedQuery {
  id: string;
  /** Resolves with the summary, once every asked node answered or the timeout passed. */
  done: Promise<QuerySummary>;
  /** The asker went away: stop waiting (no more lines). */
  cancel(): void;
}

interface Pending {
  tally: QueryTally;
  emit: (line: QueryLine) => void;
  finish: () => void;
}

/** A received query id is remembered this long past its timeout, to drop a repeat (frames older than frameWindowMs are refused anyway). */
const seenKeptMs = 30_000;

export class QueryService {
  private readonly pending = new Map<string, Pending>();
  /** Received queries (from/id) and until when they are remembered. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: QueryServiceOptions) {}

  ask(request: QueryRequest, onLine: (line: QueryLine) => void): AskedQuery {
    const { node, tags, network, metrics } = this.options;
    // Lines after a cancel go nowhere: the asker went away.
    let cancelled = false;
    const emit = (line: QueryLine): void => {
      if (!cancelled) onLine(line);
    };
    const id = randomUUID();
    // A witness runs no handlers: a cluster-wide query leaves it out unless the filter asks for it.
    const withWitnesses = request.tags[witnessTag] !== undefined;
    const inScope = request.scope === 'local' ? [node]
      : request.scope === 'cluster' ? [node, ...(network?.peers() ?? [])].filter((name) => withWitnesses || !tags.isWitness(name))
        : request.scope;
    const tally = new QueryTally(id, request.name, tags.matching(request.tags, inScope), performance.now());
    metrics.queriesAsked.inc();
    let resolve: (summary: QuerySummary) => void = () => {};
    const done = new Promise<QuerySummary>((settle) => (resolve = settle));
    let open = true;
    const finish = (): void => {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      this.pending.delete(id);
      const summary = tally.summary(performance.now());
      if (summary.missing.length > 0) metrics.queriesTimedOut.inc();
      this.watch(summary.missing.length + summary.failed.length > 0 ? 'warn' : 'info', `query ${request.name} (${id}): ${describeSummary(summary)}`, node, { ...summary });
      emit(summary);
      resolve(summary);
    };
    const timer = setTimeout(finish, request.timeoutMs);
    this.pending.set(id, { tally, emit, finish });
    const opening = tally.opening(request.timeoutMs);
    emit(opening);
    if (opening.type === 'query') this.watch('info', `query ${request.name} (${id}) asked of ${opening.asked.join(', ') || 'no node'}`, node, { id, name: request.name, tags: request.tags });
    const frame: QueryWireFrame = {
      type: 'query', from: node, id, name: request.name, payload: request.payload, tags: request.tags,
      nodes: Array.isArray(request.scope) ? request.scope : null, timeoutMs: request.timeoutMs,
    };
    for (const target of inScope) {
      if (target === node || network === undefined) continue;
      const sent = network.send(target, frame);
      // An address not known yet: the node stays missing (it never heard the query); a frame too large is said per node.
      if (sent === 'too-large') this.record(id, target, { output: '', truncated: false, exitCode: null, failure: 'too-large', message: 'the query does not fit one datagram' });
    }
    if (inScope.includes(node) && tags.matchesHere(request.tags)) {
      this.recordAck(id, node);
      void this.run({ id, name: request.name, from: node, payload: request.payload, timeoutMs: request.timeoutMs }).then((answer) => this.record(id, node, answer));
    }
    if (tally.complete) finish();
    return {
      id,
      done,
      cancel: () => {
        cancelled = true;
        finish();
      },
    };
  }

  /** A query frame from a peer (authenticated, fresh: the transport checked it); checked here, never cast. */
  receive(from: string, body: unknown): void {
    const frame = parseQueryFrame(body);
    if (frame === undefined || frame.from !== from) {
      this.options.metrics.clusterFramesDropped.inc({ reason: 'malformed' });
      return;
    }
    switch (frame.type) {
      case 'query':
        this.answerPeer(from, frame);
        break;
      case 'query-ack':
        this.recordAck(frame.id, from);
        break;
      case 'query-answer':
        this.record(frame.id, from, frame);
        break;
    }
  }

  private answerPeer(from: string, frame: Extract<QueryWireFrame, { type: 'query' }>): void {
    const { node, tags, network } = this.options;
    if (network === undefined) return;
    const now = Date.now();
    for (const [key, until] of this.seen) if (until < now) this.seen.delete(key);
    const key = `${from}/${frame.id}`;
    if (this.seen.has(key)) return;
    this.seen.set(key, now + frame.timeoutMs + seenKeptMs);
    // Not named, or not tagged so: silent (Serf's filters), the asker did not count on this node.
    if ((frame.nodes !== null && !frame.nodes.includes(node)) || !tags.matchesHere(frame.tags)) return;
    // A witness is asked only by name or by its tag (the asker left it out otherwise).
    if (this.options.witness === true && frame.nodes === null && frame.tags[witnessTag] === undefined) return;
    network.send(from, { type: 'query-ack', from: node, id: frame.id });
    this.watch('info', `query ${frame.name} (${frame.id}) from ${from}: answering`, from, { id: frame.id, name: frame.name });
    void this.run({ id: frame.id, name: frame.name, from, payload: frame.payload, timeoutMs: frame.timeoutMs }).then((answer) => {
      sendAnswer(network, from, { type: 'query-answer', from: node, id: frame.id, ...answer });
    });
  }

  /** A monitor entry of kind `query`, built only when someone watches. */
  private watch(level: 'info' | 'warn', message: string, node: string, data: Record<string, unknown>): void {
    const monitor = this.options.monitor;
    if (!monitor?.wanted('query', level)) return;
    monitor.publish({ kind: 'query', level, time: new Date().toISOString(), message, node, data });
  }

  private async run(job: Parameters<QueryHandlers['answer']>[0]): Promise<HandlerAnswer> {
    const answer = await this.options.handlers.answer(job);
    this.options.metrics.queryHandlerRuns.inc({ status: answer.failure ?? 'ok' });
    if (answer.failure !== undefined) this.options.logger.info({ query: job.id, name: job.name, from: job.from, failure: answer.failure }, `query ${job.name} from ${job.from}: ${answer.message ?? answer.failure}`);
    return answer;
  }

  private recordAck(id: string, node: string): void {
    const pending = this.pending.get(id);
    const line = pending?.tally.ack(node, performance.now());
    if (pending && line) pending.emit(line);
  }

  private record(id: string, node: string, answer: AnswerInput): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    const lines = pending.tally.answer(node, performance.now(), answer);
    for (const line of lines) {
      if (line.type === 'answer' || line.type === 'error') this.options.metrics.queryAnswers.inc({ result: line.type });
      pending.emit(line);
    }
    if (pending.tally.complete) pending.finish();
  }
}

/** Sends an answer; one too large for a datagram is cut in half (flagged truncated) until it fits. */
function sendAnswer(network: QueryNetwork, to: string, frame: QueryAnswerFrame): void {
  let answer = frame;
  for (;;) {
    if (network.send(to, answer) !== 'too-large' || answer.output === '') return;
    const bytes = Buffer.from(answer.output);
    answer = { ...answer, output: bytes.subarray(0, Math.floor(Math.min(bytes.length, queryBounds.maxOutputBytes) / 2)).toString('utf8'), truncated: true };
  }
}

function describeSummary(summary: QuerySummary): string {
  const parts = [`${summary.acked.length} acks`, `${summary.answered.length} answers`];
  if (summary.failed.length > 0) parts.push(`failed: ${summary.failed.join(', ')}`);
  if (summary.missing.length > 0) parts.push(`missing: ${summary.missing.join(', ')}`);
  return parts.join(', ');
}

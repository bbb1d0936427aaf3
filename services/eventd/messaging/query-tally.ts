// The asking node's bookkeeping of one query: who was asked, who acked (got
// it and matched), who answered (output) or failed (an error answer), and at
// the end who is missing. Pure: times are given. Each node counts once (a
// duplicate ack or answer is no line); an answer that overtook its ack
// counts as both.
import type { QueryFailure } from './query-frames.js';

/** A failure of the asker's own making for one node: the frame did not fit a datagram, or the node's address is unknown. */
export type DeliveryFailure = 'too-large' | 'unreachable';

export type QueryLine =
  | { type: 'query'; id: string; name: string; asked: string[]; timeoutMs: number }
  | { type: 'ack'; node: string; rttMs: number }
  | { type: 'answer'; node: string; rttMs: number; output: string; truncated: boolean; exitCode: number | null }
  | { type: 'error'; node: string; rttMs: number; error: QueryFailure | DeliveryFailure; message: string; output?: string; exitCode?: number | null }
  | QuerySummary;

export interface QuerySummary {
  type: 'summary';
  id: string;
  name: string;
  /** Matched the scope and the tags filter (as this node knows the tags), or acked. */
  asked: string[];
  acked: string[];
  /** Answered with the handler's output (whatever its exit code). */
  answered: string[];
  /** Answered with an error (no handler, killed at its timeout, could not start, busy) or could not be sent to. */
  failed: string[];
  /** Asked, and neither answered nor failed before the timeout. */
  missing: string[];
  elapsedMs: number;
}

export interface AnswerInput {
  output: string;
  truncated: boolean;
  exitCode: number | null;
  failure?: QueryFailure | DeliveryFailure;
  message?: string;
}

const ms = (value: number): number => Math.round(value * 1000) / 1000;

export class QueryTally {
  private readonly asked: Set<string>;
  private readonly acked = new Set<string>();
  private readonly answered = new Set<string>();
  private readonly failed = new Set<string>();

  constructor(readonly id: string, readonly name: string, asked: readonly string[], private readonly startedAt: number) {
    this.asked = new Set(asked);
  }

  /** The first line: what was asked of whom. */
  opening(timeoutMs: number): QueryLine {
    return { type: 'query', id: this.id, name: this.name, asked: sorted(this.asked), timeoutMs };
  }

  /** A node acked at `at`: a line the first time, undefined after. A node not thought to match that acks was asked after all (its tags had changed). */
  ack(node: string, at: number): QueryLine | undefined {
    if (this.acked.has(node)) return undefined;
    this.acked.add(node);
    this.asked.add(node);
    return { type: 'ack', node, rttMs: ms(at - this.startedAt) };
  }

  /** A node's answer (or failure) at `at`: its lines (an implied ack first, when the answer overtook it), none for a repeat. */
  answer(node: string, at: number, input: AnswerInput): QueryLine[] {
    if (this.answered.has(node) || this.failed.has(node)) return [];
    const lines: QueryLine[] = [];
    const delivery = input.failure === 'too-large' || input.failure === 'unreachable';
    if (!delivery) {
      const ack = this.ack(node, at);
      if (ack) lines.push(ack);
    }
    this.asked.add(node);
    const rttMs = ms(at - this.startedAt);
    if (input.failure === undefined) {
      this.answered.add(node);
      lines.push({ type: 'answer', node, rttMs, output: input.output, truncated: input.truncated, exitCode: input.exitCode });
    } else {
      this.failed.add(node);
      lines.push({
        type: 'error', node, rttMs, error: input.failure, message: input.message ?? input.failure,
        ...(input.output === '' ? {} : { output: input.output }), ...(delivery ? {} : { exitCode: input.exitCode }),
      });
    }
    return lines;
  }

  /** Every asked node answered or failed: nothing more to wait for. */
  get complete(): boolean {
    for (const node of this.asked) if (!this.answered.has(node) && !this.failed.has(node)) return false;
    return true;
  }

  summary(at: number): QuerySummary {
    const missing = [...this.asked].filter((node) => !this.answered.has(node) && !this.failed.has(node));
    return {
      type: 'summary', id: this.id, name: this.name,
      asked: sorted(this.asked), acked: sorted(this.acked), answered: sorted(this.answered), failed: sorted(this.failed), missing: missing.sort(),
      elapsedMs: ms(at - this.startedAt),
    };
  }
}

function sorted(names: ReadonlySet<string>): string[] {
  return [...names].sort();
}

// The evaluation budget of a jsonata-path expression: jsonata's own guardrails
// (checked on entry to every AST node it evaluates: depth of the evaluation
// stack and time since the evaluation began) and its cap on the length of any
// sequence it builds (a range such as [1..1e7] is refused before allocating).
// The fast path needs none: it has no loops, no functions and no recursion.
//
// Why hooks and not a worker with a deadline: an evaluation is a few
// microseconds, a worker round trip tens of them (bench/evaluate.ts prints
// both). What the hooks cannot interrupt is a single built-in call that loops
// inside jsonata's own code ($pad to a huge width, a catastrophic regular
// expression): the README names that as the limit of the budget.

export interface EvaluationBudget {
  /** Wall time of one evaluation, in milliseconds. */
  readonly timeoutMs: number;
  /** Nesting depth of jsonata's evaluator (a non-tail recursion). */
  readonly depth: number;
  /** Longest sequence an evaluation may build. */
  readonly sequence: number;
}

export const defaultBudget: EvaluationBudget = { timeoutMs: 250, depth: 500, sequence: 100_000 };

/** jsonata's codes for an evaluation that went past its guardrails (D2014 is its own fixed range limit). */
const budgetCodes: Record<string, string> = {
  D1011: 'depth',
  D1012: 'time',
  D2014: 'sequence',
  D2015: 'sequence',
};

export interface BudgetFault {
  /** jsonata's code, or RangeError for a limit of the JavaScript engine itself. */
  code: string;
  /** What ran out: time, depth, sequence, or memory (the engine's own stack, array or string size). */
  limit: 'time' | 'depth' | 'sequence' | 'memory';
  message: string;
}

/** The fault when `error` says the expression ran out of budget, else undefined (an ordinary runtime error). */
export function budgetFault(error: unknown): BudgetFault | undefined {
  if (error instanceof RangeError) return { code: 'RangeError', limit: 'memory', message: error.message };
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return undefined;
  const limit = budgetCodes[code];
  if (limit === undefined) return undefined;
  return { code, limit: limit as BudgetFault['limit'], message: typeof message === 'string' ? message : code };
}

/** The options jsonata takes for its guardrails. */
export function jsonataGuardrails(budget: EvaluationBudget): { timeout: number; stack: number; sequence: number } {
  return { timeout: budget.timeoutMs, stack: budget.depth, sequence: budget.sequence };
}

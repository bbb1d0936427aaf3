// At creation (and on a PATCH that changes an expression), each expression is
// tried on the latest samples of its class under the same evaluation budget
// the evaluator uses: what would fail, or run out of budget, on the data the
// node has is a 400 now rather than an error state later.
import { EventdError } from '../errors.js';
import { budgetFault, type CompiledExpression } from '../expression/index.js';
import { truthy } from '../expression/index.js';
import type { Attrs, Sample } from '../types.js';
import type { CompiledSubscription } from './compiled.js';

/** Enough to meet every shape of a class's resources; each failure costs at most one budget. */
const maxTried = 50;

export async function tryOnLatest(compiled: CompiledSubscription, latest: readonly Pick<Sample, 'node' | 'resource' | 'attrs'>[]): Promise<void> {
  const className = compiled.subscription.class;
  for (const sample of latest.slice(0, maxTried)) {
    // $prev is the same sample: both branches of a rate of change are exercised.
    const bindings = { prev: sample.attrs, node: sample.node, resource: sample.resource, class: className };
    if (compiled.where) {
      const where = await attempt(compiled.where, 'where', sample.attrs, bindings, sample);
      if (!truthy(where)) continue;
    }
    await attempt(compiled.expr, 'expr', sample.attrs, bindings, sample);
    if (compiled.rearm) await attempt(compiled.rearm, 'rearm', sample.attrs, bindings, sample);
  }
}

async function attempt(expression: CompiledExpression, field: string, attrs: Attrs, bindings: { prev: Attrs; node: string; resource: string; class: string }, sample: Pick<Sample, 'node' | 'resource'>): Promise<unknown> {
  try {
    return await expression.evaluate(attrs, bindings);
  } catch (error) {
    const fault = budgetFault(error);
    const fields = typeof error === 'object' && error !== null ? (error as { code?: unknown; position?: unknown; message?: unknown }) : {};
    const code = fault?.code ?? (typeof fields.code === 'string' ? fields.code : undefined);
    const reason = fault?.message ?? (typeof fields.message === 'string' ? fields.message : String(error));
    const position = typeof fields.position === 'number' ? fields.position : undefined;
    const what = fault ? `ran out of its evaluation budget (${fault.limit})` : 'failed';
    return Promise.reject(new EventdError(
      'EVENTD_ERR_EXPRESSION_FAILED',
      `${field}: ${what} on the latest sample of ${sample.resource} (node ${sample.node})${position === undefined ? '' : ` at position ${position}`}: ${reason}`,
      { field, resource: sample.resource, node: sample.node, ...(code === undefined ? {} : { jsonataCode: code }), ...(position === undefined ? {} : { position }), ...(fault ? { budget: fault.limit } : {}) },
    ));
  }
}

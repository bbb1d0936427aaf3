import { compileExpression, type ClassAttributes, type CompiledExpression } from '../expression/index.js';
import type { ForClause } from '../evaluation/threshold.js';
import type { Subscription } from '../types.js';
import { parseFor } from './for-clause.js';

/** A subscription with its expressions parsed once, ready for the evaluator. */
export interface CompiledSubscription {
  readonly subscription: Subscription;
  readonly expr: CompiledExpression;
  readonly rearm?: CompiledExpression;
  readonly where?: CompiledExpression;
  readonly forClause?: ForClause;
}

/** Throws EventdError naming the field (and position) that is wrong. */
export function compileSubscription(subscription: Subscription, attributes?: ClassAttributes): CompiledSubscription {
  const { expr, rearm, where } = subscription;
  return {
    subscription,
    expr: compileExpression(expr, 'expr', attributes),
    ...(rearm === undefined ? {} : { rearm: compileExpression(rearm, 'rearm', attributes) }),
    ...(where === undefined ? {} : { where: compileExpression(where, 'where', attributes) }),
    ...(subscription.for === undefined ? {} : { forClause: parseFor(subscription.for) }),
  };
}

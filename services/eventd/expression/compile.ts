// compileExpression: parse once, check attribute names and types, and pick
// the synchronous fast path when the whole expression is in its subset, else
// jsonata's own evaluator (compiled once, reused for every sample) under the
// evaluation budget.

import jsonata from 'jsonata';
import type { AttributeType, Attrs } from '../types.js';
import { findUnknownAttribute } from './attributes.js';
import { defaultBudget, jsonataGuardrails, type EvaluationBudget } from './budget.js';
import { emptyExpression, pointer, syntaxError, typeError, unknownAttribute } from './compile-errors.js';
import { compileFast } from './fast-path.js';
import { checkTypes } from './type-check.js';
import type { AstNode, Bindings, CompiledExpression, ExpressionWarning } from './types.js';

/** A class's attributes: names only, or names with their manifest types (then types are checked too). */
export type ClassAttributes = ReadonlySet<string> | ReadonlyMap<string, AttributeType>;

/**
 * Parses once. `field` is the API field name ("expr", "rearm", "where") used
 * in errors. `attributes`, when given, is the class's attributes: a
 * root-level path naming one not in the set is rejected, and with types an
 * expression jsonata would fail on for every sample is rejected too.
 * `budget`: the limits of a jsonata-path evaluation (undefined: none, for
 * the benchmark's comparison only).
 */
export function compileExpression(source: string, field: string, attributes?: ClassAttributes, budget: EvaluationBudget | undefined = defaultBudget): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw emptyExpression(field);

  let expression: jsonata.Expression;
  try {
    expression = budget === undefined ? jsonata(source) : jsonata(source, jsonataGuardrails(budget));
  } catch (err) {
    throw syntaxError(field, source, err);
  }
  // jsonata's ExprNode type names few of the fields its AST has; AstNode names the ones we read, all optional.
  const processed: object = expression.ast();
  const ast = processed as AstNode;

  const warnings: ExpressionWarning[] = [];
  if (attributes) {
    const names: ReadonlySet<string> = attributes instanceof Map ? new Set(attributes.keys()) : (attributes as ReadonlySet<string>);
    const unknown = findUnknownAttribute(ast, names);
    if (unknown) throw unknownAttribute(field, source, unknown, names);
    if (attributes instanceof Map) {
      for (const finding of checkTypes(ast, attributes)) {
        if (finding.severity === 'error') throw typeError(field, source, finding);
        warnings.push({ field, position: finding.position, message: `${field}: ${finding.message}`, pointer: pointer(source, finding.position, finding.length) });
      }
    }
  }

  const fast = compileFast(ast);
  if (fast) {
    return { source, fast: true, warnings, evaluate: fast };
  }
  return {
    source,
    fast: false,
    warnings,
    evaluate(attrs: Attrs, bindings: Bindings): Promise<unknown> {
      // Bind exactly the documented names, whatever else the caller's object holds.
      return expression.evaluate(attrs, {
        prev: bindings.prev,
        node: bindings.node,
        resource: bindings.resource,
        class: bindings.class,
        tags: bindings.tags ?? {},
      });
    },
  };
}

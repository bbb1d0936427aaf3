// compileExpression: parse once, check attribute names, and pick the
// synchronous fast path when the whole expression is in its subset, else
// jsonata's own evaluator (compiled once, reused for every sample).

import jsonata from 'jsonata';
import type { Attrs } from '../types.js';
import { findUnknownAttribute } from './attributes.js';
import { emptyExpression, syntaxError, unknownAttribute } from './compile-errors.js';
import { compileFast } from './fast-path.js';
import type { AstNode, Bindings, CompiledExpression } from './types.js';

/** Parses once. `field` is the API field name ("expr", "rearm", "where") used in errors. `attributes`, when given, is the class's attribute names: a root-level path naming an attribute not in the set is rejected. */
export function compileExpression(source: string, field: string, attributes?: ReadonlySet<string>): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw emptyExpression(field);

  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (err) {
    throw syntaxError(field, source, err);
  }
  // jsonata's ExprNode type names few of the fields its AST has; AstNode names the ones we read, all optional.
  const processed: object = expression.ast();
  const ast = processed as AstNode;

  if (attributes) {
    const unknown = findUnknownAttribute(ast, attributes);
    if (unknown) throw unknownAttribute(field, source, unknown, attributes);
  }

  const fast = compileFast(ast);
  if (fast) {
    return { source, fast: true, evaluate: fast };
  }
  return {
    source,
    fast: false,
    evaluate(attrs: Attrs, bindings: Bindings): Promise<unknown> {
      // Bind exactly the four documented names, whatever else the caller's object holds.
      return expression.evaluate(attrs, {
        prev: bindings.prev,
        node: bindings.node,
        resource: bindings.resource,
        class: bindings.class,
      });
    },
  };
}

// Public shapes of the expression module, and the slice of jsonata's AST it reads.

import type { Attrs } from '../types.js';

/** The variables bound for every subscription expression (DESIGN.md, "Terms and shapes"). */
export interface Bindings {
  prev: Attrs | undefined;
  node: string;
  resource: string;
  class: string;
  /** The evaluating node's tags (`$tags.role`); absent: none. */
  tags?: Readonly<Record<string, string>>;
}

/** Legal in jsonata but almost surely not what was meant (a number used as a condition): returned beside a 201. */
export interface ExpressionWarning {
  field: string;
  position: number | undefined;
  message: string;
  /** The source line and carets under the token. */
  pointer: string;
}

export interface CompiledExpression {
  readonly source: string;
  readonly warnings: readonly ExpressionWarning[];
  /** true when evaluate() runs the synchronous fast path, never returning a Promise */
  readonly fast: boolean;
  /** Evaluates over the sample's attrs with $prev, $node, $resource, $class bound. Throws (or rejects) on a runtime error such as comparing a string with a number. */
  evaluate(attrs: Attrs, bindings: Bindings): unknown | Promise<unknown>;
}

/**
 * A node of jsonata's processed AST (`jsonata(src).ast()`). jsonata's own
 * `ExprNode` type omits most fields, so this names the ones we read; every
 * field is optional because node types differ.
 */
export interface AstNode {
  type: string;
  value?: unknown;
  position?: number;
  steps?: AstNode[];
  stages?: AstNode[];
  predicate?: AstNode[];
  expressions?: AstNode[];
  arguments?: AstNode[];
  procedure?: AstNode;
  lhs?: AstNode | [AstNode, AstNode][];
  rhs?: AstNode;
  expression?: AstNode;
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  body?: AstNode;
  group?: { lhs: [AstNode, AstNode][]; position?: number };
  [key: string]: unknown;
}

/** A compiled fast-path node: a plain synchronous function of the sample. */
export type FastFn = (attrs: Attrs, bindings: Bindings) => unknown;

// Rejects references to attributes the subscription's class does not have.
// Only names evaluated against the sample itself are checked: the first step
// of a path at the root (and the field of `$prev.x`, since $prev holds the
// same class's attributes). Names inside lambdas, inside predicates, or in
// later steps of a path are relative to some other value and are left alone.

import type { AstNode } from './types.js';

export interface AttributeReference {
  attribute: string;
  /** jsonata's position: the offset just past the name. */
  position: number | undefined;
}

/** The first root-level reference to a name not in `known`, or undefined when all are known. */
export function findUnknownAttribute(ast: AstNode, known: ReadonlySet<string>): AttributeReference | undefined {
  for (const ref of rootReferences(ast)) {
    if (!known.has(ref.attribute)) return ref;
  }
  return undefined;
}

/** Every attribute name the expression reads from the sample root or from $prev, in source order of the walk. */
export function* rootReferences(node: AstNode | undefined): Generator<AttributeReference> {
  if (!node) return;
  switch (node.type) {
    case 'path':
      yield* pathReferences(node.steps ?? []);
      return;
    case 'name':
      if (typeof node.value === 'string') yield { attribute: node.value, position: node.position };
      return;
    case 'binary':
    case 'apply':
      if (node.lhs && !Array.isArray(node.lhs)) yield* rootReferences(node.lhs);
      yield* rootReferences(node.rhs);
      return;
    case 'bind':
      yield* rootReferences(node.rhs);
      return;
    case 'unary':
      // `-x`, an array constructor `[a, b]` or an object constructor `{"k": v}` at the root.
      yield* rootReferences(node.expression);
      for (const expression of node.expressions ?? []) yield* rootReferences(expression);
      if (Array.isArray(node.lhs)) for (const [key, value] of node.lhs) { yield* rootReferences(key); yield* rootReferences(value); }
      return;
    case 'condition':
      yield* rootReferences(node.condition);
      yield* rootReferences(node.then);
      yield* rootReferences(node.else);
      return;
    case 'block':
      for (const expression of node.expressions ?? []) yield* rootReferences(expression);
      return;
    case 'function':
    case 'partial':
      for (const argument of node.arguments ?? []) yield* rootReferences(argument);
      return;
    default:
      // lambda, transform, regex, literals, variables, wildcards, descendants, parent: nothing read from the root by name.
      return;
  }
}

function* pathReferences(steps: AstNode[]): Generator<AttributeReference> {
  const [first, second] = steps;
  if (!first) return;
  if (first.type === 'name') {
    if (typeof first.value === 'string') yield { attribute: first.value, position: first.position };
    return;
  }
  if (first.type === 'variable') {
    // `$prev.x` (and `$.x`, the root itself) read attributes; other variables are not the sample.
    const readsSample = first.value === 'prev' || first.value === '';
    if (readsSample && second?.type === 'name' && typeof second.value === 'string') {
      yield { attribute: second.value, position: second.position };
    }
    return;
  }
  // A first step such as `(a + b).c` or `$f(a).c` is evaluated at the root: its inside is checked, its later steps are not.
  if (first.type !== 'lambda') yield* rootReferences(withoutStages(first));
}

/** The step itself without its predicates: those run against the step's result, not the root. */
function withoutStages(step: AstNode): AstNode {
  const { stages: _stages, predicate: _predicate, ...rest } = step;
  return rest as AstNode;
}

// Subscription expressions (expr, rearm, where): JSONata over a sample's attrs
// with $prev, $node, $resource and $class bound. DESIGN.md, "Terms and shapes".

export type { Bindings, CompiledExpression } from './types.js';
export { compileExpression } from './compile.js';
export { truthy, ExpressionRuntimeError } from './semantics.js';

// Subscription expressions (expr, rearm, where): JSONata over a sample's attrs
// with $prev, $node, $resource and $class bound. DESIGN.md, "Terms and shapes".

export type { Bindings, CompiledExpression, ExpressionWarning } from './types.js';
export { compileExpression, type ClassAttributes } from './compile.js';
export { budgetFault, defaultBudget, type BudgetFault, type EvaluationBudget } from './budget.js';
export { truthy, ExpressionRuntimeError } from './semantics.js';

// Checks an expression against the attribute types of its class's manifest,
// before any sample: what jsonata would fail on for every sample is an error
// (a comparison of a number with a string, arithmetic on a string, a path step
// into a number, a numeric function given a string); what jsonata allows but
// is almost surely a mistake is a warning (a number used as a condition, `=`
// between a number and a string, which is never true). Like attributes.ts,
// only names read from the sample root (and $prev) have a known type; names
// inside lambdas, predicates and later path steps are relative to something
// else and stay unknown, so nothing legal is refused.

import type { AttributeType } from '../types.js';
import type { AstNode } from './types.js';

export type StaticType = AttributeType | 'unknown';

export interface TypeFinding {
  severity: 'error' | 'warning';
  /** jsonata's position: the offset just past the token. */
  position: number | undefined;
  /** Length of the token ending at `position`, for the caret line. */
  length: number;
  message: string;
}

type ArgumentKind = 'number' | 'string' | 'numbers';

/** jsonata built-ins whose first arguments have a fixed type (their signatures), and what they return. */
const functions: Record<string, { args: ArgumentKind[]; returns: StaticType }> = {
  sum: { args: ['numbers'], returns: 'number' },
  max: { args: ['numbers'], returns: 'number' },
  min: { args: ['numbers'], returns: 'number' },
  average: { args: ['numbers'], returns: 'number' },
  abs: { args: ['number'], returns: 'number' },
  floor: { args: ['number'], returns: 'number' },
  ceil: { args: ['number'], returns: 'number' },
  round: { args: ['number', 'number'], returns: 'number' },
  sqrt: { args: ['number'], returns: 'number' },
  power: { args: ['number', 'number'], returns: 'number' },
  length: { args: ['string'], returns: 'number' },
  uppercase: { args: ['string'], returns: 'string' },
  lowercase: { args: ['string'], returns: 'string' },
  trim: { args: ['string'], returns: 'string' },
  substring: { args: ['string', 'number', 'number'], returns: 'string' },
  contains: { args: ['string'], returns: 'boolean' },
  count: { args: [], returns: 'number' },
  number: { args: [], returns: 'number' },
  string: { args: [], returns: 'string' },
  boolean: { args: [], returns: 'boolean' },
  not: { args: [], returns: 'boolean' },
  exists: { args: [], returns: 'boolean' },
};

export function checkTypes(ast: AstNode, types: ReadonlyMap<string, AttributeType>): TypeFinding[] {
  const checker = new Checker(types, reboundNames(ast));
  const result = checker.type(ast, true);
  if (result === 'number' || result === 'string') {
    const what = result === 'number' ? 'true whenever it is not 0' : 'true whenever it is not empty';
    checker.warn(ast, `the expression is a ${result}, used as a condition: ${what}; compare it (e.g. "> 0")`);
  }
  return checker.findings;
}

class Checker {
  readonly findings: TypeFinding[] = [];

  constructor(private readonly types: ReadonlyMap<string, AttributeType>, private readonly rebound: ReadonlySet<string>) {}

  warn(node: AstNode, message: string): void {
    this.findings.push({ severity: 'warning', ...span(node), message });
  }

  private error(node: AstNode, message: string): void {
    this.findings.push({ severity: 'error', ...span(node), message });
  }

  /** The node's type when known statically; `root`: the node is evaluated against the sample itself. */
  type(node: AstNode | undefined, root: boolean): StaticType {
    if (!node) return 'unknown';
    this.visitStages(node);
    switch (node.type) {
      case 'number': return 'number';
      case 'string': return 'string';
      case 'value': return typeof node.value === 'boolean' ? 'boolean' : 'unknown';
      case 'name': return root && typeof node.value === 'string' ? this.types.get(node.value) ?? 'unknown' : 'unknown';
      case 'path': return this.path(node.steps ?? [], root);
      case 'binary': return this.binary(node, root);
      case 'unary': return this.unary(node, root);
      case 'condition': {
        this.condition(node.condition, root, 'the condition of ?:');
        const then = this.type(node.then, root);
        const otherwise = node.else === undefined ? 'unknown' : this.type(node.else, root);
        return then === otherwise ? then : 'unknown';
      }
      case 'block': {
        let last: StaticType = 'unknown';
        for (const expression of node.expressions ?? []) last = this.type(expression, root);
        return last;
      }
      case 'bind': return this.type(node.rhs, root);
      case 'function': return this.call(node, root);
      case 'lambda':
        this.type(node.body, false);
        return 'unknown';
      case 'apply':
        if (node.lhs && !Array.isArray(node.lhs)) this.type(node.lhs, root);
        this.type(node.rhs, false);
        return 'unknown';
      default:
        return 'unknown';
    }
  }

  /** Predicates and stages run against the step's result, not the sample. */
  private visitStages(node: AstNode): void {
    for (const stage of [...(node.stages ?? []), ...(node.predicate ?? [])]) {
      const expr = (stage as { expr?: AstNode }).expr;
      this.type(expr, false);
    }
  }

  private path(steps: AstNode[], root: boolean): StaticType {
    const [first, second] = steps;
    if (!first) return 'unknown';
    if (steps.length === 1) return this.type(first, root);
    let attribute: string | undefined;
    let next = 1;
    if (root && first.type === 'name' && typeof first.value === 'string') attribute = first.value;
    if (first.type === 'variable' && (first.value === 'prev' || first.value === '') && second?.type === 'name' && typeof second.value === 'string') {
      attribute = second.value;
      next = 2;
    }
    if (attribute === undefined) {
      this.type(first, root);
      for (const step of steps.slice(1)) this.type(step, false);
      return 'unknown';
    }
    const type = this.types.get(attribute);
    const into = steps[next];
    if (into === undefined) return type ?? 'unknown';
    if (type !== undefined && (into.type === 'name' || into.type === 'wildcard')) {
      const label = into.type === 'name' ? `.${String(into.value)}` : '.*';
      this.error(into, `"${attribute}" is a ${type}: the step ${label} into it is always undefined, so this never holds`);
    }
    for (const step of steps.slice(next)) this.type(step, false);
    return 'unknown';
  }

  private binary(node: AstNode, root: boolean): StaticType {
    const lhs = node.lhs && !Array.isArray(node.lhs) ? node.lhs : undefined;
    const op = String(node.value);
    if (op === 'and' || op === 'or') {
      this.condition(lhs, root, `the left side of "${op}"`);
      this.condition(node.rhs, root, `the right side of "${op}"`);
      return 'boolean';
    }
    const left = this.type(lhs, root);
    const right = this.type(node.rhs, root);
    switch (op) {
      case '<': case '<=': case '>': case '>=':
        if (lhs && node.rhs && (left === 'number' && right === 'string' || left === 'string' && right === 'number')) {
          const offender = left === 'string' ? lhs : node.rhs;
          this.error(offender, `"${op}" compares a ${left} with a ${right}: jsonata fails on every sample (T2009); compare like with like`);
        } else if (lhs && node.rhs && (left === 'boolean' || right === 'boolean')) {
          this.error(left === 'boolean' ? lhs : node.rhs, `"${op}" needs numbers or strings, not a boolean: jsonata fails on every sample (T2010)`);
        }
        return 'boolean';
      case '=': case '!=':
        if (node.rhs && (left === 'number' && right === 'string' || left === 'string' && right === 'number')) {
          this.warn(node.rhs, `"${op}" compares a ${left} with a ${right}: they are never equal`);
        }
        return 'boolean';
      case '+': case '-': case '*': case '/': case '%':
        if (lhs && (left === 'string' || left === 'boolean')) this.error(lhs, `the left side of "${op}" is a ${left}, not a number: jsonata fails on every sample (T2001)`);
        else if (node.rhs && (right === 'string' || right === 'boolean')) this.error(node.rhs, `the right side of "${op}" is a ${right}, not a number: jsonata fails on every sample (T2002)`);
        return 'number';
      case '&': return 'string';
      case 'in': return 'boolean';
      default: return 'unknown';
    }
  }

  private condition(node: AstNode | undefined, root: boolean, where: string): void {
    const type = this.type(node, root);
    if (node && type === 'number') this.warn(node, `${where} is a number, used as a condition: true whenever it is not 0`);
  }

  private unary(node: AstNode, root: boolean): StaticType {
    if (node.value === '-') {
      const type = this.type(node.expression, root);
      if (node.expression && (type === 'string' || type === 'boolean')) this.error(node.expression, `"-" negates a ${type}: jsonata fails on every sample (D1002)`);
      return 'number';
    }
    for (const expression of node.expressions ?? []) this.type(expression, root);
    if (Array.isArray(node.lhs)) for (const [key, value] of node.lhs) { this.type(key, root); this.type(value, root); }
    return 'unknown';
  }

  private call(node: AstNode, root: boolean): StaticType {
    const args = node.arguments ?? [];
    const argTypes = args.map((argument) => this.type(argument, root));
    const name = node.procedure?.type === 'variable' && typeof node.procedure.value === 'string' ? node.procedure.value : undefined;
    const known = name === undefined || this.rebound.has(name) ? undefined : functions[name];
    if (!known) return 'unknown';
    known.args.forEach((kind, i) => {
      const argument = args[i];
      const type = argTypes[i];
      if (!argument || type === undefined || type === 'unknown') return;
      const fits = kind === 'string' ? type === 'string' : type === 'number';
      if (!fits) {
        const wanted = kind === 'numbers' ? 'numbers' : `a ${kind}`;
        this.error(argument, `argument ${i + 1} of $${name} must be ${wanted}, not a ${type}: jsonata fails on every sample (T0410)`);
      }
    });
    return known.returns;
  }
}

/** Names the expression binds itself (`$sum := ...`, lambda parameters): those are not jsonata's built-ins. */
function reboundNames(ast: AstNode): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) { for (const item of value) visit(item); return; }
    if (value === null || typeof value !== 'object') return;
    const node = value as AstNode;
    if (node.type === 'bind' && node.lhs && !Array.isArray(node.lhs) && typeof node.lhs.value === 'string') names.add(node.lhs.value);
    if (node.type === 'lambda') for (const argument of node.arguments ?? []) if (typeof argument.value === 'string') names.add(argument.value);
    for (const [key, child] of Object.entries(node)) if (key !== 'position' && key !== 'value') visit(child);
  };
  visit(ast);
  return names;
}

/** Where a node ends and how long its token is, for the caret line. */
function span(node: AstNode): { position: number | undefined; length: number } {
  if (node.type === 'path') {
    const steps = node.steps ?? [];
    const first = steps[0];
    const last = steps[steps.length - 1];
    if (first && last && typeof first.position === 'number' && typeof last.position === 'number') {
      const start = first.position - tokenLength(first);
      return { position: last.position, length: last.position - start };
    }
  }
  return { position: node.position, length: tokenLength(node) };
}

function tokenLength(node: AstNode): number {
  switch (node.type) {
    case 'string': return String(node.value).length + 2;
    case 'name': return String(node.value).length;
    case 'variable': return String(node.value).length + 1;
    case 'number': return String(node.value).length;
    default: return 1;
  }
}

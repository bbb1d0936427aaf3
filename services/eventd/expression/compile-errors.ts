// The EventdErrors compileExpression throws: each names the API field and
// where in the expression the problem is, with a caret line for humans.

import { EventdError } from '../errors.js';
import type { AttributeReference } from './attributes.js';
import type { TypeFinding } from './type-check.js';

/**
 * The source line holding the token and carets under it. jsonata's `position`
 * is the offset just past the token, so the token starts `length` before it.
 */
export function pointer(source: string, position: number | undefined, length = 1): string {
  const end = Math.min(Math.max(position ?? 0, 1), source.length + 1);
  const start = Math.max(end - Math.max(length, 1), 0);
  const lineStart = source.lastIndexOf('\n', start - 1) + 1;
  const lineEndIndex = source.indexOf('\n', start);
  const lineEnd = lineEndIndex === -1 ? source.length : lineEndIndex;
  const carets = '^'.repeat(Math.max(Math.min(end, lineEnd) - start, 1));
  return `${source.slice(lineStart, lineEnd)}\n${' '.repeat(start - lineStart)}${carets}`;
}

export function emptyExpression(field: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_EXPRESSION', `${field}: expression is empty`, { field });
}

interface JsonataParseError {
  code?: unknown;
  position?: unknown;
  token?: unknown;
  message?: unknown;
}

/** Wraps what `jsonata(source)` threw (a plain object with code, position, token, message). */
export function syntaxError(field: string, source: string, thrown: unknown): EventdError {
  const err: JsonataParseError = typeof thrown === 'object' && thrown !== null ? thrown : {};
  const position = typeof err.position === 'number' ? err.position : undefined;
  const token = typeof err.token === 'string' ? err.token : undefined;
  const jsonataCode = typeof err.code === 'string' ? err.code : undefined;
  const reason = typeof err.message === 'string' ? err.message : String(thrown);
  const where = position === undefined ? '' : ` at position ${position}`;
  const near = token === undefined ? '' : token === '(end)' ? ' (end of expression)' : ` near ${JSON.stringify(token)}`;
  return new EventdError('EVENTD_ERR_BAD_EXPRESSION', `${field}: syntax error${where}${near}: ${reason}`, {
    field,
    position,
    token,
    jsonataCode,
    // '(end)' means the expression stopped early: point just past its last character.
    pointer: token === '(end)' ? pointer(source, (position ?? 0) + 1) : pointer(source, position, token?.length ?? 1),
  });
}

export function unknownAttribute(field: string, source: string, ref: AttributeReference, known: ReadonlySet<string>): EventdError {
  const names = [...known].sort();
  const where = ref.position === undefined ? '' : ` at position ${ref.position}`;
  const list = names.length === 0 ? 'this class has none' : `attributes are: ${names.join(', ')}`;
  return new EventdError(
    'EVENTD_ERR_UNKNOWN_ATTRIBUTE',
    `${field}: unknown attribute ${JSON.stringify(ref.attribute)} of this class${where}; ${list}`,
    { field, attribute: ref.attribute, position: ref.position, known: names, pointer: pointer(source, ref.position, ref.attribute.length) },
  );
}

/** What jsonata would fail on for every sample, found from the manifest's attribute types before any sample. */
export function typeError(field: string, source: string, finding: TypeFinding): EventdError {
  const where = finding.position === undefined ? '' : ` at position ${finding.position}`;
  return new EventdError('EVENTD_ERR_EXPRESSION_TYPE', `${field}: type error${where}: ${finding.message}`, {
    field,
    position: finding.position,
    pointer: pointer(source, finding.position, finding.length),
  });
}

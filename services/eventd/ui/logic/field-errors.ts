import { isApiErrorBody } from './types.js';

export interface FormErrors {
  /** Message per form field, for the fields the server named. */
  byField: Map<string, string>;
  /** What names no field of the form (shown above it). */
  general: string[];
}

/**
 * Places the server's 400 at the field it names: `details.field` when the
 * error has one (expressions, for, name, class), else each schema problem's
 * leading path ("rearm: must NOT have fewer than 1 characters").
 */
export function formErrors(body: unknown, fields: readonly string[]): FormErrors {
  const byField = new Map<string, string>();
  const general: string[] = [];
  if (!isApiErrorBody(body)) return { byField, general: ['the daemon gave no error message'] };
  const { message, details } = body.error;
  const place = (field: string | undefined, text: string) => {
    const top = field?.split('.')[0];
    if (top !== undefined && fields.includes(top)) byField.set(top, byField.has(top) ? `${byField.get(top)}; ${text}` : text);
    else general.push(text);
  };
  const named = details?.['field'];
  const problems = details?.['problems'];
  if (typeof named === 'string') {
    const pointer = details?.['pointer'];
    place(named, typeof pointer === 'string' ? `${message}\n${pointer}` : message);
  } else if (Array.isArray(problems) && problems.every((problem) => typeof problem === 'string')) {
    // "(root): must have required property 'comment'" names its field at the end.
    for (const problem of problems) place(/^([\w.]+):/.exec(problem)?.[1] ?? /required property '([\w.]+)'/.exec(problem)?.[1], problem);
  } else {
    place(/^([\w.]+):/.exec(message)?.[1], message);
  }
  return { byField, general };
}

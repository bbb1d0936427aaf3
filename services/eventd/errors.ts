// One error vocabulary for the API, the CLI and the logs (after fastify's
// lib/errors.js): a stable code, an HTTP status and a message. Tests match
// codes, never message text.

export type ErrorCode =
  | 'EVENTD_ERR_BAD_REQUEST'
  | 'EVENTD_ERR_BAD_JSON'
  | 'EVENTD_ERR_BODY_TOO_LARGE'
  | 'EVENTD_ERR_BAD_EXPRESSION'
  | 'EVENTD_ERR_UNKNOWN_ATTRIBUTE'
  | 'EVENTD_ERR_EXPRESSION_TYPE'
  | 'EVENTD_ERR_EXPRESSION_FAILED'
  | 'EVENTD_ERR_UNKNOWN_CLASS'
  | 'EVENTD_ERR_BAD_FOR'
  | 'EVENTD_ERR_BAD_DURATION'
  | 'EVENTD_ERR_BAD_ACTION'
  | 'EVENTD_ERR_BAD_WINDOW'
  | 'EVENTD_ERR_UNKNOWN_RESPONSE'
  | 'EVENTD_ERR_RESPONSE_EXISTS'
  | 'EVENTD_ERR_RESPONSE_IN_USE'
  | 'EVENTD_ERR_RESPONSE_NOT_FOUND'
  | 'EVENTD_ERR_BAD_SILENCE'
  | 'EVENTD_ERR_SILENCE_NOT_FOUND'
  | 'EVENTD_ERR_BAD_INHIBIT_RULE'
  | 'EVENTD_ERR_INHIBIT_RULE_NOT_FOUND'
  | 'EVENTD_ERR_INHIBIT_RULE_IN_CONFIG'
  | 'EVENTD_ERR_NO_CLUSTER'
  | 'EVENTD_ERR_SUBSCRIPTION_EXISTS'
  | 'EVENTD_ERR_SUBSCRIPTION_NOT_FOUND'
  | 'EVENTD_ERR_EVENT_NOT_FOUND'
  | 'EVENTD_ERR_UNAUTHORIZED'
  | 'EVENTD_ERR_FORBIDDEN_HOST'
  | 'EVENTD_ERR_DATA_DIR_IN_USE'
  | 'EVENTD_ERR_STARTUP'
  | 'EVENTD_ERR_NOT_FOUND'
  | 'EVENTD_ERR_BAD_CONFIG'
  | 'EVENTD_ERR_BAD_MANIFEST'
  | 'EVENTD_ERR_GROUP_NOT_FOUND'
  | 'EVENTD_ERR_UNSATISFIABLE'
  | 'EVENTD_ERR_INTERNAL';

const statusOf: Record<ErrorCode, number> = {
  EVENTD_ERR_BAD_REQUEST: 400,
  EVENTD_ERR_BAD_JSON: 400,
  EVENTD_ERR_BODY_TOO_LARGE: 413,
  EVENTD_ERR_BAD_EXPRESSION: 400,
  EVENTD_ERR_UNKNOWN_ATTRIBUTE: 400,
  EVENTD_ERR_EXPRESSION_TYPE: 400,
  EVENTD_ERR_EXPRESSION_FAILED: 400,
  EVENTD_ERR_UNKNOWN_CLASS: 422,
  EVENTD_ERR_BAD_FOR: 400,
  EVENTD_ERR_BAD_DURATION: 400,
  EVENTD_ERR_BAD_ACTION: 400,
  EVENTD_ERR_BAD_WINDOW: 400,
  EVENTD_ERR_UNKNOWN_RESPONSE: 400,
  EVENTD_ERR_RESPONSE_EXISTS: 409,
  EVENTD_ERR_RESPONSE_IN_USE: 409,
  EVENTD_ERR_RESPONSE_NOT_FOUND: 404,
  EVENTD_ERR_BAD_SILENCE: 400,
  EVENTD_ERR_SILENCE_NOT_FOUND: 404,
  EVENTD_ERR_BAD_INHIBIT_RULE: 400,
  EVENTD_ERR_INHIBIT_RULE_NOT_FOUND: 404,
  EVENTD_ERR_INHIBIT_RULE_IN_CONFIG: 409,
  EVENTD_ERR_NO_CLUSTER: 422,
  EVENTD_ERR_SUBSCRIPTION_EXISTS: 409,
  EVENTD_ERR_SUBSCRIPTION_NOT_FOUND: 404,
  EVENTD_ERR_EVENT_NOT_FOUND: 404,
  EVENTD_ERR_UNAUTHORIZED: 401,
  EVENTD_ERR_FORBIDDEN_HOST: 403,
  EVENTD_ERR_DATA_DIR_IN_USE: 409,
  EVENTD_ERR_STARTUP: 500,
  EVENTD_ERR_NOT_FOUND: 404,
  EVENTD_ERR_BAD_CONFIG: 400,
  EVENTD_ERR_BAD_MANIFEST: 400,
  EVENTD_ERR_GROUP_NOT_FOUND: 404,
  EVENTD_ERR_UNSATISFIABLE: 409,
  EVENTD_ERR_INTERNAL: 500,
};

export class EventdError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'EventdError';
    this.code = code;
    this.status = statusOf[code];
    this.details = details;
  }

  toBody(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isEventdError(value: unknown): value is EventdError {
  return value instanceof EventdError;
}

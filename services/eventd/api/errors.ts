import type { FastifyError, FastifyInstance } from 'fastify';
import { EventdError, isEventdError } from '../errors.js';
import { describeErrors } from '../schema.js';

/** Every error leaves the API as `{ error: { code, message, details? } }` with the right status. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | EventdError, request, reply) => {
    const mapped = toEventdError(error);
    if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(mapped.status).send(mapped.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new EventdError('EVENTD_ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(error.status).send(error.toBody());
  });
}

function toEventdError(error: FastifyError | EventdError): EventdError {
  if (isEventdError(error)) return error;
  if (error.validation) {
    const problems = describeErrors(error.validation as never, error.validationContext ?? '');
    return new EventdError('EVENTD_ERR_BAD_REQUEST', problems.join('; '), { problems });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new EventdError('EVENTD_ERR_BODY_TOO_LARGE', 'request body is larger than the limit (api.bodyLimitBytes)');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EventdError('EVENTD_ERR_BAD_JSON', `request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new EventdError('EVENTD_ERR_BAD_REQUEST', `send the body as application/json: ${error.message}`);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new EventdError('EVENTD_ERR_BAD_JSON', `request body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode !== undefined && error.statusCode < 500) {
    return new EventdError('EVENTD_ERR_BAD_REQUEST', error.message);
  }
  return new EventdError('EVENTD_ERR_INTERNAL', 'internal error; see the daemon log');
}

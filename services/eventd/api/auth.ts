import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EventdError } from '../errors.js';
import { isConsoleRequest } from './ui-session.js';

/** Open without a token: liveness probes must work before anyone holds the token. */
const openPaths = new Set(['/healthz']);

/** With `api.token` set, every request but /healthz needs `Authorization: Bearer <token>`. */
export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request) => {
    if (openPaths.has(request.url.split('?')[0] ?? '')) return;
    // Console (issue 15): /ui/... has its own gate, a session cookie (ui-session.ts).
    if (isConsoleRequest(request)) return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new EventdError('EVENTD_ERR_UNAUTHORIZED', 'a bearer token is required: set EVENTD_TOKEN or send "Authorization: Bearer <api.token>"');
    }
  });
}

// Every write to the API (POST, PUT, PATCH, DELETE), refused ones included, is
// recorded before its answer leaves: who (request.caller), what, when, how it
// ended. Reads are not recorded.
import type { FastifyInstance } from 'fastify';
import type { AuditStore } from '../store/audit.js';

const writes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request created or changed (a subscription id), set by the route when it knows. */
    auditSubject: string | null;
  }
}

export function registerAudit(app: FastifyInstance, audit: AuditStore): void {
  app.decorateRequest('auditSubject', null);
  app.addHook('onSend', async (request, reply, payload) => {
    if (!writes.has(request.method)) return payload;
    const params = request.params as Record<string, unknown> | undefined;
    const subject = request.auditSubject ?? (typeof params?.['id'] === 'string' ? params['id'] : null);
    audit.record({
      time: Date.now(),
      who: request.caller?.who ?? 'anonymous',
      via: request.caller?.via ?? (request.socket.localPort === undefined ? 'in-process' : 'tcp'),
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      subject,
    });
    return payload;
  });
}

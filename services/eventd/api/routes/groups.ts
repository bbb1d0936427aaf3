import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import type { ApiContext } from '../context.js';

/** Failover groups: owner, placement, this node's state, each node's last report (consumers/failover). */
export function groupRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/groups', async () => {
    const status = context.consumers?.status('failover');
    if (status === undefined) throw new EventdError('EVENTD_ERR_NOT_FOUND', 'failover is not configured on this daemon (no "failover" config)');
    return status;
  });
}

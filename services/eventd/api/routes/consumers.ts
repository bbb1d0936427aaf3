import type { FastifyInstance } from 'fastify';
import type { ConsumerRoute } from '../../consumers/contract.js';

/** The routes running consumers added (the failover consumer's /v1/groups), under the API's auth and error handling. */
export function consumerRoutes(app: FastifyInstance, routes: readonly ConsumerRoute[]): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request) =>
        route.handler({
          params: (request.params ?? {}) as Record<string, string>,
          query: (request.query ?? {}) as Record<string, string | undefined>,
          body: request.body,
        }),
    });
  }
}

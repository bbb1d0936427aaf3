import type { FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';
import type { ConsumerRoute, ConsumerRoutes } from '../../consumers/contract.js';

const methods = ['GET', 'POST', 'DELETE', 'PATCH'] as const;

/**
 * The routes running consumers add (the failover consumer's /v1/groups). The
 * API is built and ready before the cluster and the consumers start (its
 * build blocks the event loop for a few hundred milliseconds, longer than a
 * lease a fresh holder may already hold), so consumers add their routes here
 * afterwards and the API finds them per request.
 */
export class ConsumerRouter implements ConsumerRoutes {
  private readonly router = FindMyWay();

  add(route: ConsumerRoute): void {
    this.router.on(route.method, route.url, () => undefined, { route });
  }

  /** The route for `method` and `url` (the router leaves its query string aside) and the path's parameters, or undefined. */
  find(method: string, url: string): { route: ConsumerRoute; params: Record<string, string> } | undefined {
    const found = this.router.find(method as (typeof methods)[number], url);
    if (found === null) return undefined;
    const { route } = found.store as { route: ConsumerRoute };
    return { route, params: found.params as Record<string, string> };
  }
}

/** Serves the consumer routes under the API's auth and error handling; a path no consumer added is the API's 404. */
export function consumerRoutes(app: FastifyInstance, router: ConsumerRouter): void {
  // A wildcard is tried after every static and parametric route, so the core's routes keep theirs.
  app.route({
    method: [...methods],
    url: '/v1/*',
    handler: async (request, reply) => {
      const found = router.find(request.method, request.url);
      if (found === undefined) return reply.callNotFound();
      return found.route.handler({
        params: found.params,
        query: (request.query ?? {}) as Record<string, string | undefined>,
        body: request.body,
      });
    },
  });
}

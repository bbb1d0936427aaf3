import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import type { ApiContext } from '../context.js';

interface Params { class: string; resource: string }
interface Query { node?: string; limit?: number }

/** The recent samples of one resource (in memory, bounded), oldest first: what the console charts. */
export function resourceHistoryRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get<{ Params: Params; Querystring: Query }>(
    '/v1/resources/:class/:resource/history',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { node: { type: 'string', minLength: 1 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (request) => {
      const { class: className, resource } = request.params;
      if (!context.producers.manifests().some((manifest) => manifest.class === className)) {
        throw new EventdError('EVENTD_ERR_UNKNOWN_CLASS', `class: no producer reports "${className}"; GET /v1/classes lists them`, { field: 'class', class: className });
      }
      const node = request.query.node ?? context.config.node;
      const points = context.history.list(className, node, resource);
      const kept = request.query.limit === undefined ? points : points.slice(-request.query.limit);
      return {
        class: className,
        node,
        resource,
        samples: kept.map((point) => ({ time: new Date(point.time).toISOString(), attrs: point.attrs })),
      };
    },
  );
}

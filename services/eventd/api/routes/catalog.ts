import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import type { ClassList, ResourceList } from '../responses.js';

/** What can be subscribed to: classes (producer manifests) and their latest samples. */
export function catalogRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/classes', async (): Promise<ClassList> => {
    const awake = new Set(context.producers.awake());
    const classes = context.producers
      .manifests()
      .map((manifest) => ({ ...manifest, awake: awake.has(manifest.class) }))
      .sort((a, b) => a.class.localeCompare(b.class));
    return { classes };
  });

  app.get<{ Querystring: { class?: string } }>(
    '/v1/resources',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { class: { type: 'string', minLength: 1 } } } } },
    async (request): Promise<ResourceList> => ({
      resources: context.store.samples.list(request.query.class).map((sample) => ({
        ...sample,
        time: new Date(sample.time).toISOString(),
      })),
    }),
  );
}

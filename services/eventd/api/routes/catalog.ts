import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import type { ClassList, ResourceList } from '../responses.js';

/** What can be subscribed to: classes (producer manifests) and their latest samples. */
export function catalogRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/classes', async (): Promise<ClassList> => {
    const awake = new Set(context.producers.awake());
    const classes = context.producers
      .manifests()
      .map((manifest) => {
        // The period in use: what the config sets for the class wins over the manifest's default.
        const configured = context.config.producers[manifest.class]?.periodMs;
        const period = configured === undefined || configured === manifest.periodMs ? {} : { periodMs: configured, defaultPeriodMs: manifest.periodMs };
        return { ...manifest, ...period, awake: awake.has(manifest.class) };
      })
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

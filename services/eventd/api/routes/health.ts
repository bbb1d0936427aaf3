import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import type { DaemonStatus } from '../responses.js';

export function healthRoutes(app: FastifyInstance, context: ApiContext): void {
  const uptimeS = () => Math.round((Date.now() - context.startedAt) / 1000);

  app.get('/healthz', async () => ({ status: 'ok', node: context.config.node, version: context.version, uptimeS: uptimeS() }));

  app.get('/v1/status', async (): Promise<DaemonStatus> => {
    const { db } = context.store;
    const count = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const last = db.prepare('SELECT id FROM events ORDER BY pos DESC LIMIT 1').get() as { id: string } | undefined;
    const runs = db.prepare('SELECT status, COUNT(*) AS n FROM action_runs WHERE status IN (\'pending\', \'running\', \'retrying\') GROUP BY status').all() as { status: string; n: number }[];
    const open = (status: string) => runs.find((row) => row.status === status)?.n ?? 0;
    return {
      node: context.config.node,
      version: context.version,
      uptimeS: uptimeS(),
      subscriptions: context.subscriptions.list().length,
      producersAwake: context.producers.awake(),
      events: { count, lastId: last?.id ?? null },
      actions: { pending: open('pending'), running: open('running'), retrying: open('retrying') },
    };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await context.metrics.registry.metrics();
    return reply.type(context.metrics.registry.contentType).send(text);
  });
}

import { fastifySSE } from '@fastify/sse';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import { consoleAssetsDir, presetsDir } from '../paths.js';
import { loadPresets } from '../presets.js';
import { registerAudit } from './audit.js';
import { registerAuth } from './auth.js';
import type { ApiContext } from './context.js';
import { registerErrorHandling } from './errors.js';
import { actionRoutes } from './routes/actions.js';
import { auditRoutes } from './routes/audit.js';
import { catalogRoutes } from './routes/catalog.js';
import { consumerRoutes } from './routes/consumers.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { memberRoutes } from './routes/members.js';
import { monitorRoutes } from './routes/monitor.js';
import { raiseRoutes } from './routes/raise.js';
import { tagRoutes } from './routes/tags.js';
import { queryRoutes } from './routes/queries.js';
import { presetRoutes } from './routes/presets.js';
import { responseRoutes } from './routes/responses.js';
import { silenceRoutes } from './routes/silences.js';
import { inhibitRoutes } from './routes/inhibit.js';
import { consoleRoutes } from './routes/console.js';
import { resourceHistoryRoutes } from './routes/resource-history.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { ConsoleSessions, registerConsoleSessions, rewriteConsoleUrl } from './ui-session.js';

/** Builds the local API (not listening): tests use `inject`, the daemon calls `listen`. */
export async function buildApi(context: ApiContext, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is fastify's logger; the cast only widens its generic type.
    loggerInstance: logger.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: context.config.api.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: true } },
    // close() ends every connection, event streams included: an attached client must not hold a stopping daemon.
    forceCloseConnections: true,
    // The console calls the API under /ui/v1/... so its cookie (Path=/ui) goes with those calls only.
    rewriteUrl: (request) => rewriteConsoleUrl(request.url ?? '/'),
  });
  registerErrorHandling(app);
  registerAuth(app, context.auth);
  registerAudit(app, context.store.audit);
  registerConsoleSessions(app, new ConsoleSessions({ dataDir: context.config.dataDir, token: context.auth.tokens === 'none' ? undefined : context.auth.tokens[0]?.token }));
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });
  healthRoutes(app, context);
  subscriptionRoutes(app, context);
  eventRoutes(app, context);
  raiseRoutes(app, context);
  tagRoutes(app, context);
  queryRoutes(app, context);
  catalogRoutes(app, context);
  actionRoutes(app, context);
  responseRoutes(app, context);
  silenceRoutes(app, context);
  inhibitRoutes(app, context);
  auditRoutes(app, context);
  memberRoutes(app, context);
  if (context.monitor) monitorRoutes(app, { monitor: context.monitor, metrics: context.metrics, ...(context.internalClasses ? { internalClasses: context.internalClasses } : {}) });
  consumerRoutes(app, context.consumerRoutes);
  presetRoutes(app, loadPresets(presetsDir, logger));
  resourceHistoryRoutes(app, context);
  consoleRoutes(app, consoleAssetsDir);
  return app;
}

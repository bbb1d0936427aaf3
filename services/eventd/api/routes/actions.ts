import type { FastifyInstance } from 'fastify';
import { actionRunStatuses, type ActionRunStatus } from '../../store/action-runs.js';
import type { ApiContext } from '../context.js';

interface ActionQuery {
  subscription?: string;
  event?: string;
  status?: ActionRunStatus;
  limit?: number;
}

/** The audit of action runs, newest first, each with its attempts (status, exit code, HTTP status or SMTP reply). */
export function actionRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get<{ Querystring: ActionQuery }>(
    '/v1/actions',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subscription: { type: 'string', minLength: 1 },
            event: { type: 'string', minLength: 1 },
            status: { enum: [...actionRunStatuses] },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        },
      },
    },
    async (request) => {
      const { subscription, event, status, limit = 100 } = request.query;
      let subscriptionId = subscription;
      if (subscription !== undefined) {
        try {
          subscriptionId = context.subscriptions.find(subscription).subscription.id;
        } catch {
          // a deleted subscription's runs are still found by id
        }
      }
      const runs = context.store.actionRuns.list({
        limit,
        ...(subscriptionId === undefined ? {} : { subscription: subscriptionId }),
        ...(event === undefined ? {} : { eventId: event }),
        ...(status === undefined ? {} : { status }),
      });
      return {
        actions: runs.map((run) => ({
          ...run,
          createdAt: iso(run.createdAt),
          startedAt: iso(run.startedAt),
          endedAt: iso(run.endedAt),
          nextAt: iso(run.nextAt),
          attempts: context.store.actionRuns.attempts(run.id).map((attempt) => ({ ...attempt, startedAt: iso(attempt.startedAt), endedAt: iso(attempt.endedAt) })),
        })),
      };
    },
  );
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

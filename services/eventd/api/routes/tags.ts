import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import { tagFilter } from '../../messaging/tags.js';
import type { ApiContext } from '../context.js';

/** This node's tags (GET /v1/tags) and changing them at run time (PATCH /v1/tags { set, delete }), like serf tags -set / -delete. */
export function tagRoutes(app: FastifyInstance, context: ApiContext): void {
  const { tags } = context;
  if (!tags) return;
  app.get('/v1/tags', async () => ({ node: context.config.node, tags: tags.mine() }));
  app.patch('/v1/tags', async (request) => {
    const body: unknown = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', 'body: { set?: { name: value }, delete?: [name] }', { field: 'body' });
    const input: Record<string, unknown> = { ...body };
    const unknown = Object.keys(input).find((name) => name !== 'set' && name !== 'delete');
    if (unknown !== undefined) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${unknown}: unknown field (give set and/or delete)`, { field: unknown });
    const set = input['set'] === undefined ? {} : tagFilter(input['set'], 'set');
    const remove = input['delete'] ?? [];
    if (!Array.isArray(remove) || remove.some((name) => typeof name !== 'string')) throw new EventdError('EVENTD_ERR_BAD_REQUEST', 'delete: a list of tag names', { field: 'delete' });
    request.auditSubject = `tags:${context.config.node}`;
    return { node: context.config.node, tags: tags.change(set, remove.map(String)) };
  });
}

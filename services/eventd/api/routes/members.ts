import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import type { ApiContext } from '../context.js';
import type { MemberList } from '../responses.js';

/** The cluster's members as this node sees them. */
export function memberRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/members', async (): Promise<MemberList> => {
    if (!context.cluster) throw new EventdError('EVENTD_ERR_NO_CLUSTER', 'this daemon has no "cluster" config: it is a single node');
    const { tags } = context;
    return { view: context.cluster.view(), members: context.cluster.members().map((member) => ({ ...member, tags: tags?.of(member.name) ?? {} })) };
  });
}

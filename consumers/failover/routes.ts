// The failover consumer's API: GET /v1/groups and the operator's controls,
// each a POST that raises one agreed FailoverControl event (or answers why
// it cannot, raising nothing).
import { EventdError, parseDuration, type ConsumerRequest, type ConsumerRoute } from '../../services/eventd/sdk/index.js';
import type { ControlAction, ControlAttrs } from './controls.js';
import type { FailoverRuntime } from './runtime.js';

type Body = Record<string, unknown>;

function body(request: ConsumerRequest): Body {
  const value = request.body ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', 'the body must be a JSON object');
  return value as Body;
}

function stringField(fields: Body, key: string, required: boolean): string | undefined {
  const value = fields[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${key}: a non-empty string is required`, { field: key });
  return value;
}

/** `lifetime: "30m"` -> an expiry (epoch ms) from now. */
function expiry(fields: Body, now: number): { expiresAt?: number } {
  const lifetime = stringField(fields, 'lifetime', false);
  return lifetime === undefined ? {} : { expiresAt: now + parseDuration(lifetime, 'lifetime') };
}

export function failoverRoutes(runtime: FailoverRuntime): ConsumerRoute[] {
  const control = (make: (request: ConsumerRequest, fields: Body) => ControlAttrs) => (request: ConsumerRequest) => runtime.control(make(request, body(request)));
  const groupControl = (action: ControlAction, withNode: 'node' | 'optional-node' | 'none', lifetime = false): ConsumerRoute => ({
    method: 'POST',
    url: `/v1/groups/:name/${action}`,
    handler: control((request, fields) => {
      const node = withNode === 'none' ? undefined : stringField(fields, 'node', withNode === 'node');
      return { action, group: request.params['name']!, ...(node === undefined ? {} : { node }), ...(lifetime ? expiry(fields, Date.now()) : {}) };
    }),
  });
  const nodeControl = (action: 'standby' | 'unstandby'): ConsumerRoute => ({
    method: 'POST',
    url: `/v1/failover/nodes/:node/${action}`,
    handler: control((request) => ({ action, node: request.params['node']! })),
  });
  return [
    // Failover groups: owner, placement, this node's state, constraints, fail counts, each node's last report.
    { method: 'GET', url: '/v1/groups', handler: () => runtime.status() },
    groupControl('move', 'node', true),
    groupControl('ban', 'node', true),
    groupControl('clear', 'none'),
    groupControl('unmanage', 'none'),
    groupControl('manage', 'none'),
    groupControl('cleanup', 'optional-node'),
    nodeControl('standby'),
    nodeControl('unstandby'),
    {
      method: 'POST',
      url: '/v1/failover/maintenance',
      handler: control((_request, fields) => {
        if (typeof fields['on'] !== 'boolean') throw new EventdError('EVENTD_ERR_BAD_REQUEST', 'on: true or false is required', { field: 'on' });
        return { action: 'maintenance', on: fields['on'] };
      }),
    },
  ];
}

// Topic names and payloads of the MQTT bridge: one definition each, shared
// by the bridge and its README.
import type { ConsumerThresholdState, EventRecord } from '../../services/eventd/sdk/index.js';

/**
 * One topic level for a name. A name holding `/`, `+`, `#` or `%` (or NUL)
 * is URI-component encoded, so it stays one level and is never a wildcard;
 * any other name is used as it is. decodeURIComponent(level) gives the name back.
 */
export function topicLevel(name: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is exactly what MQTT forbids in a topic
  return /[/+#%\u0000]/.test(name) ? encodeURIComponent(name) : name;
}

/** `<prefix>/events/<class>/<node>/<subscription id>`: every event and rearm, not retained. */
export function eventTopic(prefix: string, event: Pick<EventRecord, 'class' | 'node' | 'subscription'>): string {
  return `${prefix}/events/${topicLevel(event.class)}/${topicLevel(event.node)}/${topicLevel(event.subscription)}`;
}

/** `<prefix>/state/<subscription id>/<node>/<resource>`: the current threshold state, retained. */
export function stateTopic(prefix: string, key: Pick<ConsumerThresholdState, 'subscription' | 'node' | 'resource'>): string {
  return `${prefix}/state/${topicLevel(key.subscription)}/${topicLevel(key.node)}/${topicLevel(key.resource)}`;
}

/** `<prefix>/nodes/<node>/status`: "online" (retained), "offline" by last will or on a clean stop. */
export function statusTopic(prefix: string, node: string): string {
  return `${prefix}/nodes/${topicLevel(node)}/status`;
}

/** The retained payload of a state topic. */
export interface StatePayload {
  subscription: string;
  node: string;
  resource: string;
  /** armed: waiting for the expression; fired: waiting for the rearm; error: out of its evaluation budget, no longer evaluated. */
  state: 'armed' | 'fired' | 'error';
  /** The event or rearm that put it there. */
  event: EventRecord;
}

/** The state an event leaves its (subscription, node, resource) in. */
export function stateAfter(event: EventRecord): StatePayload {
  return {
    subscription: event.subscription,
    node: event.node,
    resource: event.resource,
    state: event.type === 'event' ? 'fired' : event.type === 'error' ? 'error' : 'armed',
    event,
  };
}

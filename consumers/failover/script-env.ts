import type { GroupSettings } from './settings.js';

/** The environment of a group's start and stop scripts. */
export function actionEnvBase(group: GroupSettings, action: 'start' | 'stop' | 'announce', node: string, reason: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('EVENTD_')) env[key] = value;
  return {
    ...env,
    EVENTD_GROUP: group.name,
    EVENTD_ACTION: action,
    EVENTD_NODE: node,
    EVENTD_REASON: reason,
    ...(group.ip
      ? { EVENTD_IP_ADDRESS: group.ip.address, EVENTD_IP_PREFIX_LENGTH: String(group.ip.prefixLength), EVENTD_IP_INTERFACE: group.ip.interface }
      : {}),
  };
}

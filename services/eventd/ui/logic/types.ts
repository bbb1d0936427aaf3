// The API shapes the console reads: the daemon's own response types
// (api/responses.ts), type-only, so the bundle carries none of the daemon's code.
import type { ActionRunInfo, ClassInfo, GroupList, MemberList, Preset, ResourceInfo, SilenceList } from '../../api/responses.js';
import type { AttributeSpec, EventRecord, Subscription } from '../../types.js';

export type { Attrs, AttrValue } from '../../types.js';
export type ConsoleEvent = EventRecord;
export type SubscriptionView = Subscription;
export type AttributeView = AttributeSpec;
export type ClassView = ClassInfo;
export type SampleView = ResourceInfo;
export type PresetView = Preset;
export type MemberView = MemberList['members'][number];
export type ActionRunView = ActionRunInfo;
export type GroupView = GroupList['groups'][number];
export type FailoverStatus = GroupList;
export type SilenceView = SilenceList['silences'][number];

export interface ThresholdStateView {
  node: string;
  resource: string;
  state: 'armed' | 'fired';
  lastEvent?: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

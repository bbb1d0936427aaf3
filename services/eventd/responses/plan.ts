// Which action runs an event owes on this node, and for each whether it runs
// or why not. Decided when the event is appended, in its transaction: the
// silence, inhibition, flapping state and window in force when the event
// happened are what count (an operator reading the audit later sees the
// reason as it was), and the skipped rows are as durable as the event.
import type { EventOwner } from '../log/append.js';
import type { ActionRunDraft, ActionRunReason } from '../store/action-runs.js';
import type { ActionSpec, CrossingType, EventRecord, EventType, NamedResponse } from '../types.js';
import { runsHere } from './placement.js';
import { compileWindow, inWindow, type CompiledWindow } from './window.js';

/** Why the responses of an event do not run, when something outside the response says so; in order of precedence. */
export interface Mute {
  reason: Extract<ActionRunReason, 'silenced' | 'inhibited' | 'flapping'>;
  detail: string;
}

export interface PlanInputs {
  /** This node. */
  node: string;
  /** A named response, if this node knows it. */
  response(name: string): NamedResponse | undefined;
  /** Why this event's responses are muted (inhibition, flapping), if they are. */
  mute?(event: EventRecord): Mute | undefined;
}

interface Candidate {
  spec: ActionSpec;
  response: NamedResponse | null;
}

const windows = new WeakMap<NamedResponse, CompiledWindow>();

function windowOf(response: NamedResponse): CompiledWindow | undefined {
  if (response.window === undefined) return undefined;
  let compiled = windows.get(response);
  if (compiled === undefined) {
    compiled = compileWindow(response.window);
    windows.set(response, compiled);
  }
  return compiled;
}

/**
 * The inline actions first, then each named response's actions, in order: a
 * flat index that is the run's key (one row per event, subscription, index).
 * A response this node does not know (deleted meanwhile) owes nothing.
 */
export function planActions(event: EventRecord, owner: EventOwner | undefined, inputs: PlanInputs): ActionRunDraft[] {
  if (owner === undefined) return [];
  const candidates: Candidate[] = (owner.actions ?? []).map((spec) => ({ spec, response: null }));
  for (const name of owner.responses ?? []) {
    const response = inputs.response(name);
    if (response === undefined) continue;
    for (const spec of response.actions) {
      // The response's expectedExit and batch travel in the run's spec: the row says all the dispatcher needs.
      const withExit = 'run' in spec && spec.expectedExit === undefined && response.expectedExit !== undefined ? { ...spec, expectedExit: response.expectedExit } : spec;
      candidates.push({ spec: response.batch === undefined ? withExit : { ...withExit, batch: response.batch }, response });
    }
  }
  let mute: Mute | undefined | null = null; // asked once, only if some action runs here
  const drafts: ActionRunDraft[] = [];
  candidates.forEach(({ spec, response }, index) => {
    const crossing = crossingOf(event.type);
    if (crossing === undefined || !spec.on.includes(crossing) || !runsHere(spec.where, inputs.node, owner.node, event.node)) return;
    if (mute === null) mute = muteOf(event, inputs);
    const draft: ActionRunDraft = { eventId: event.id, subscription: event.subscription, actionIndex: index, response: response?.name ?? null, spec, node: inputs.node };
    const window = response === null ? undefined : windowOf(response);
    if (mute !== undefined) draft.skip = mute;
    else if (window !== undefined && !inWindow(window, new Date(event.time))) draft.skip = { reason: 'outside-window', detail: windowText(response as NamedResponse) };
    drafts.push(draft);
  });
  return drafts;
}

/** Precedence: a silence (chosen by an operator), then inhibition, then flapping. */
function muteOf(event: EventRecord, inputs: PlanInputs): Mute | undefined {
  if (event.silenced !== undefined) return { reason: 'silenced', detail: event.silenced };
  const muted = inputs.mute?.(event);
  if (muted !== undefined) return muted;
  if (event.flapping === true) return { reason: 'flapping', detail: `${event.class} ${event.resource} on ${event.node} is flapping` };
  return undefined;
}

/** Flapping runs what an event runs, flapping-end what a rearm runs; an `error` (out of budget) runs neither. */
function crossingOf(type: EventType): CrossingType | undefined {
  if (type === 'error') return undefined;
  return type === 'flapping' ? 'event' : type === 'flapping-end' ? 'rearm' : type;
}

function windowText(response: NamedResponse): string {
  const w = response.window ?? {};
  return `${response.name}: ${w.days ?? 'every day'} ${w.start ?? '00:00'}-${w.end ?? '24:00'} ${w.timeZone ?? 'UTC'}`;
}

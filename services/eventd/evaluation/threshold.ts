// The event/rearm state machine of one (subscription, node, resource), pure.
// Invariant: one `event` per upward crossing and one `rearm` per way back,
// never one per sample (IBM's event/rearm pair, Zabbix's problem/recovery).
import type { EventType } from '../types.js';

export type ForClause =
  | { kind: 'count'; n: number }
  | { kind: 'window'; m: number; n: number }
  | { kind: 'duration'; ms: number };

/** How far a `for` clause has got while armed; persisted with the state. */
export type ForProgress =
  | { hits: number }
  | { window: (0 | 1)[] }
  | { since: number };

export interface ThresholdState {
  state: 'armed' | 'fired';
  progress?: ForProgress | undefined;
  /** Id of the last event or rearm this state emitted. */
  lastEvent?: string;
}

export const initialState: ThresholdState = Object.freeze({ state: 'armed' }) as ThresholdState;

export interface StepResult {
  state: ThresholdState;
  emit?: EventType;
  /** The state must be persisted: it emitted or its `for` progress moved. */
  changed: boolean;
}

/**
 * Which expression decides the next step: `expr` while armed; while fired, the
 * rearm expression, or `expr` negated when there is none.
 */
export function deciding(state: ThresholdState, hasRearm: boolean): 'expr' | 'rearm' | 'not-expr' {
  if (state.state === 'armed') return 'expr';
  return hasRearm ? 'rearm' : 'not-expr';
}

/**
 * Advances the machine by one sample. `holds` is the deciding condition's
 * truth (see `deciding`); `time` is the sample time in ms.
 */
export function step(state: ThresholdState, holds: boolean, time: number, forClause?: ForClause): StepResult {
  if (state.state === 'fired') {
    if (!holds) return { state, changed: false };
    return { state: withLastEvent({ state: 'armed' }, state), emit: 'rearm', changed: true };
  }
  const progress = advance(state.progress, holds, time, forClause);
  if (progress === 'fire') {
    return { state: withLastEvent({ state: 'fired' }, state), emit: 'event', changed: true };
  }
  const changed = !sameProgress(state.progress, progress);
  const next: ThresholdState = withLastEvent(progress === undefined ? { state: 'armed' } : { state: 'armed', progress }, state);
  return { state: changed ? next : state, changed };
}

function advance(progress: ForProgress | undefined, holds: boolean, time: number, clause?: ForClause): ForProgress | undefined | 'fire' {
  if (clause === undefined) return holds ? 'fire' : undefined;
  switch (clause.kind) {
    case 'count': {
      const hits = holds ? hitsOf(progress) + 1 : 0;
      if (hits >= clause.n) return 'fire';
      return hits === 0 ? undefined : { hits };
    }
    case 'window': {
      // RSCT's __QUAL_COUNT: at least m of the last n samples.
      const window = [...windowOf(progress), holds ? 1 : 0].slice(-clause.n) as (0 | 1)[];
      if (window.reduce<number>((sum, bit) => sum + bit, 0) >= clause.m) return 'fire';
      return window.includes(1) ? { window } : undefined;
    }
    case 'duration': {
      if (!holds) return undefined;
      const since = sinceOf(progress) ?? time;
      if (time - since >= clause.ms) return 'fire';
      return { since };
    }
  }
}

function hitsOf(progress: ForProgress | undefined): number {
  return progress !== undefined && 'hits' in progress ? progress.hits : 0;
}

function windowOf(progress: ForProgress | undefined): (0 | 1)[] {
  return progress !== undefined && 'window' in progress ? progress.window : [];
}

function sinceOf(progress: ForProgress | undefined): number | undefined {
  return progress !== undefined && 'since' in progress ? progress.since : undefined;
}

function sameProgress(a: ForProgress | undefined, b: ForProgress | undefined): boolean {
  if (a === b) return true; // the common case: both undefined, nothing in progress
  return JSON.stringify(a) === JSON.stringify(b);
}

function withLastEvent(next: ThresholdState, previous: ThresholdState): ThresholdState {
  return previous.lastEvent === undefined ? next : { ...next, lastEvent: previous.lastEvent };
}

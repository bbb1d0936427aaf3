// Flap detection (Nagios' percent state change), pure. Over the last `window`
// states of one (subscription, node, resource), each change between two
// neighbours counts with a weight rising linearly from 0.8 (oldest) to 1.2
// (newest), so recent flapping weighs more. Flapping starts when the percent
// rises above `high` and ends when it falls below `low` (hysteresis).

export interface FlapSettings {
  window: number;
  low: number;
  high: number;
}

export const defaultFlap: FlapSettings = { window: 21, low: 25, high: 50 };

export interface FlapState {
  /** Fired (true) or armed after each sample, oldest first, at most `window`. */
  history: boolean[];
  flapping: boolean;
}

export const initialFlapState: FlapState = Object.freeze({ history: [], flapping: false }) as FlapState;

/** Percent state change of `history` over a window of `window` states (0 until there are two). */
export function percentStateChange(history: readonly boolean[], window: number): number {
  const transitions = window - 1;
  if (transitions < 1) return 0;
  let weighted = 0;
  // Transition i (0 = oldest of the full window) weighs 0.8 + 0.4 * i / (transitions - 1).
  const offset = transitions - (history.length - 1); // a short history lines up with the newest end
  for (let i = 1; i < history.length; i++) {
    if (history[i] === history[i - 1]) continue;
    const position = offset + i - 1;
    weighted += transitions === 1 ? 1 : 0.8 + (0.4 * position) / (transitions - 1);
  }
  return (weighted / transitions) * 100;
}

export interface FlapStep {
  state: FlapState;
  percent: number;
  /** Flapping began ('start') or ended ('end') with this sample. */
  change?: 'start' | 'end';
}

export function flapStep(state: FlapState, fired: boolean, settings: FlapSettings): FlapStep {
  const history = [...state.history, fired].slice(-settings.window);
  const percent = percentStateChange(history, settings.window);
  if (!state.flapping && percent > settings.high) return { state: { history, flapping: true }, percent, change: 'start' };
  if (state.flapping && percent < settings.low) return { state: { history, flapping: false }, percent, change: 'end' };
  return { state: { history, flapping: state.flapping }, percent };
}

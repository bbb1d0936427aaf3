import type { ConsoleEvent } from '../logic/types.js';

/** One tab of the console. */
export interface Panel {
  id: string;
  title: string;
  element: HTMLElement;
  /** Refetch what it shows (on open, on reconnect, on its timer). */
  refresh(): Promise<void>;
  /** Each event of the one stream, as it arrives. */
  onEvent?(event: ConsoleEvent): void;
  /** Polled while the panel is shown, for what no event announces (samples, action results). */
  pollMs?: number;
}

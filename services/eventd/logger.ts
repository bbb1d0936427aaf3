import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout (pino's default), one logger per daemon. */
export function createLogger(level: string, node: string): Logger {
  return pino({ level, base: { node } });
}

/** For tests and tools that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

import { format } from 'node:util';
import { pino, type Logger } from 'pino';

export type { Logger };

/** A log line as a tap sees it: pino's level number, the message, and the line's fields (its logger's bindings included). */
export interface TappedLine {
  levelValue: number;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * Sees the daemon's log lines (the live monitor) beside what goes to the
 * log, without changing it. `wants` is asked first, so a line nobody watches
 * costs one call; `line` must not block (it queues).
 */
export interface LogTap {
  wants(levelValue: number): boolean;
  line(line: TappedLine): void;
}

/** Each logger made here has one tap point (children share it through pino's hooks). */
const tapPoints = new WeakMap<Logger, { tap: LogTap | undefined }>();

/** pino's level for debug lines: the tap may want them (`eventctl monitor --level debug`) whatever the log's level. */
const debugValue = pino.levels.values['debug'] ?? 20;

/**
 * JSON logs on stdout (pino's default), one logger per daemon; `tapLogger` can
 * watch its lines. The log gets exactly the lines at or above `level`; pino
 * itself runs at debug (when `level` is above it) so that a tap can see debug
 * lines on demand, and the hook drops them before pino serialises anything.
 */
export function createLogger(level: string, node: string): Logger {
  const point: { tap: LogTap | undefined } = { tap: undefined };
  const threshold = level === 'silent' ? Infinity : pino.levels.values[level] ?? debugValue;
  const logger = pino({
    level: threshold > debugValue ? 'debug' : level,
    base: { node },
    hooks: {
      logMethod(args, method, levelValue) {
        const tap = point.tap;
        if (tap?.wants(levelValue)) {
          try {
            tap.line(tappedLine(this, args, levelValue));
          } catch {
            // The monitor is a bystander: a failure there never costs the log its line.
          }
        }
        if (levelValue >= threshold) method.apply(this, args);
      },
    },
  });
  tapPoints.set(logger, point);
  return logger;
}

/** Taps a logger made by `createLogger` (others, e.g. `silentLogger`, have nothing to tap: undefined). Returns the untap function. */
export function tapLogger(logger: Logger, tap: LogTap): (() => void) | undefined {
  const point = tapPoints.get(logger);
  if (!point) return undefined;
  point.tap = tap;
  return () => {
    if (point.tap === tap) point.tap = undefined;
  };
}

/** For tests and tools that want no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** pino's calling conventions: (message, ...args), (fields, message?, ...args), (error, message?). */
function tappedLine(logger: Logger, args: readonly unknown[], levelValue: number): TappedLine {
  const [first, ...rest] = args;
  const fields: Record<string, unknown> = { ...logger.bindings() };
  let message: string;
  if (typeof first === 'object' && first !== null) {
    if (first instanceof Error) fields['err'] = first;
    else Object.assign(fields, first);
    const [text, ...values] = rest;
    if (typeof text === 'string') message = format(text, ...values);
    else if (first instanceof Error) message = first.message;
    else message = typeof fields['msg'] === 'string' ? fields['msg'] : '';
  } else {
    message = format(first, ...rest);
  }
  return { levelValue, message, fields };
}

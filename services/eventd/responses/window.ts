// A response's time window (ERRM's -d days and -t HHMM-HHMM), pure: checked
// once when the response is created, asked with the event's time.
import { EventdError } from '../errors.js';
import type { ResponseWindow } from '../types.js';

const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

export interface CompiledWindow {
  /** 0 = Sunday. */
  readonly days: ReadonlySet<number>;
  /** Minutes after local midnight; end may be 1440. */
  readonly startMin: number;
  readonly endMin: number;
  readonly timeZone: string;
}

function bad(field: string, message: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_WINDOW', `${field}: ${message}`, { field });
}

function minutes(text: string, field: string, allow24: boolean): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  const hours = Number(match?.[1]);
  const mins = Number(match?.[2]);
  if (!match || mins > 59 || hours > 24 || (hours === 24 && (!allow24 || mins !== 0))) {
    throw bad(field, `"${text}" is not a time of day; use HH:MM from 00:00 to 23:59${allow24 ? ' (or 24:00)' : ''}`);
  }
  return hours * 60 + mins;
}

function dayIndex(name: string, field: string): number {
  const index = dayNames.findIndex((day) => day.toLowerCase() === name.trim().toLowerCase());
  if (index < 0) throw bad(field, `"${name.trim()}" is not a day; use ${dayNames.join(', ')}`);
  return index;
}

function parseDays(text: string, field: string): Set<number> {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to, extra] = part.split('-');
    if (extra !== undefined || from === undefined) throw bad(field, `"${part}" is not a day or a range such as Mon-Fri`);
    const first = dayIndex(from, field);
    if (to === undefined) { days.add(first); continue; }
    // Fri-Mon wraps over the weekend.
    for (let day = first, n = 0; n < 7; day = (day + 1) % 7, n++) {
      days.add(day);
      if (day === dayIndex(to, field)) break;
    }
  }
  return days;
}

/** Throws EVENTD_ERR_BAD_WINDOW naming the field (`window.start`, ...). */
export function compileWindow(window: ResponseWindow, field = 'window'): CompiledWindow {
  const timeZone = window.timeZone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw bad(`${field}.timeZone`, `"${timeZone}" is not an IANA time zone such as Europe/Paris`);
  }
  const startMin = window.start === undefined ? 0 : minutes(window.start, `${field}.start`, false);
  const endMin = window.end === undefined ? 1440 : minutes(window.end, `${field}.end`, true);
  if (startMin === endMin) throw bad(`${field}.end`, 'equals start: the window would be empty');
  const days = window.days === undefined ? new Set([0, 1, 2, 3, 4, 5, 6]) : parseDays(window.days, `${field}.days`);
  return { days, startMin, endMin, timeZone };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The day of week (0 = Sunday) and minute of day of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  return { day: dayNames.indexOf(String(parts.weekday) as (typeof dayNames)[number]), minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Whether `at` falls in the window. A window past midnight (22:00-06:00) belongs to the day it starts on. */
export function inWindow(window: CompiledWindow, at: Date): boolean {
  const { day, minute } = localTime(at, window.timeZone);
  if (window.startMin < window.endMin) return window.days.has(day) && minute >= window.startMin && minute < window.endMin;
  if (minute >= window.startMin) return window.days.has(day);
  return minute < window.endMin && window.days.has((day + 6) % 7);
}

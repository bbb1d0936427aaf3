// Process: one sample per watched name (producers.Process.watch), counting
// the live processes that match it. A name with no match is still reported,
// with running: 0, so a "process down" subscription fires. Reads /proc only:
// it starts no process of its own that could match a watch entry.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventdError, type RawSample } from '../../services/eventd/sdk/index.js';

/** Clock ticks per second of stat's utime/stime (USER_HZ): 100 on every Linux ABI. */
export const userHz = 100;

/** The fields of `<procRoot>/<pid>/stat` this producer uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z, ... (field 3). */
  state: string;
  /** utime + stime (fields 14 and 15), in clock ticks. */
  cpuTicks: number;
  /** Field 22, clock ticks after boot: with the pid, tells a reused pid from the process seen before. */
  startTime: number;
}

/** One live process, as matched against the watch list. */
export interface ProcessInfo extends ProcStat {
  /** cmdline split at NULs; empty for kernel threads. */
  argv: string[];
  /** VmRSS from status; absent for kernel threads. */
  rssKiB?: number;
}

export type WatchEntry = { name: string; pattern?: undefined } | { name: string; pattern: RegExp };

/** Per watched name, the cpu ticks of each matching process at one moment. */
export interface CpuReading {
  timeMs: number;
  ticks: Map<string, Map<number, { startTime: number; cpuTicks: number }>>;
}

const configKeys = new Set(['periodMs', 'watch']);
const entryKeys = new Set(['name', 'pattern']);

/**
 * `producers.Process` from config: `watch` is a list of process names, or of
 * `{ name, pattern }` with a regular expression over the whole command line.
 * No watch list is an empty one. Throws EVENTD_ERR_BAD_CONFIG naming the key.
 */
export function parseProcessConfig(config: Record<string, unknown>): WatchEntry[] {
  for (const key of Object.keys(config)) {
    if (!configKeys.has(key)) throw badConfig(`producers.Process.${key}`, 'unknown key (known: periodMs, watch)');
  }
  const watch = config['watch'];
  if (watch === undefined) return [];
  if (!Array.isArray(watch)) throw badConfig('producers.Process.watch', 'must be a list of names or { name, pattern } objects');
  const entries: WatchEntry[] = [];
  const seen = new Map<string, number>();
  watch.forEach((item: unknown, index) => {
    const key = `producers.Process.watch[${index}]`;
    const entry = parseEntry(item, key);
    const first = seen.get(entry.name);
    if (first !== undefined) throw badConfig(key, `name "${entry.name}" is already watched by producers.Process.watch[${first}]`);
    seen.set(entry.name, index);
    entries.push(entry);
  });
  return entries;
}

function parseEntry(item: unknown, key: string): WatchEntry {
  if (typeof item === 'string') {
    if (item.length === 0) throw badConfig(key, 'must not be empty');
    return { name: item };
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw badConfig(key, 'must be a process name or a { name, pattern } object');
  }
  const record = item as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!entryKeys.has(field)) throw badConfig(`${key}.${field}`, 'unknown key (known: name, pattern)');
  }
  const { name, pattern } = record;
  if (typeof name !== 'string' || name.length === 0) throw badConfig(`${key}.name`, 'must be a non-empty string');
  if (typeof pattern !== 'string' || pattern.length === 0) throw badConfig(`${key}.pattern`, 'must be a non-empty regular expression');
  try {
    return { name, pattern: new RegExp(pattern) };
  } catch (error) {
    throw badConfig(`${key}.pattern`, `not a valid regular expression: ${(error as Error).message}`);
  }
}

function badConfig(key: string, problem: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_CONFIG', `${key}: ${problem}`, { key });
}

/**
 * `<pid>/stat`: `pid (comm) state ...`. comm may hold spaces and `)`, so it
 * runs to the last `)`. Undefined when the text is not a stat line.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const state = rest[0] ?? '';
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || state.length === 0 || ![utime, stime, startTime].every(Number.isFinite)) return undefined;
  return { pid, comm: text.slice(open + 2, close), state, cpuTicks: utime + stime, startTime };
}

/** `<pid>/cmdline`: arguments separated (and ended) by NUL; empty for kernel threads and zombies. */
export function parseCmdline(text: string): string[] {
  const argv = text.split('\0');
  if (argv.at(-1) === '') argv.pop();
  return argv;
}

/** VmRSS (kB, meaning KiB) from `<pid>/status`; undefined when absent (kernel threads). */
export function parseVmRssKiB(text: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s*kB/m.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Whether a process matches a watch entry. A name matches comm (which the
 * kernel cuts to 15 characters) or the base name of argv[0]; a pattern is
 * tested on the arguments joined by spaces. Zombies never match: they are
 * not running.
 */
export function matches(entry: WatchEntry, proc: ProcessInfo): boolean {
  if (proc.state === 'Z' || proc.state === 'X') return false;
  if (entry.pattern !== undefined) return proc.argv.length > 0 && entry.pattern.test(proc.argv.join(' '));
  const argv0 = proc.argv[0];
  return proc.comm === entry.name || (argv0 !== undefined && baseName(argv0) === entry.name);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The samples for one period, and the reading the next period's cpuPercent
 * is measured from. cpuPercent is the cpu time the matching processes used
 * since `previous` (100 = one CPU busy); absent on the first reading. A
 * process that started since counts with all its ticks; one that exited
 * since cannot be read and counts with none.
 */
export function processSamples(
  entries: WatchEntry[],
  processes: ProcessInfo[],
  previous: CpuReading | undefined,
  timeMs: number,
): { samples: RawSample[]; reading: CpuReading } {
  const reading: CpuReading = { timeMs, ticks: new Map() };
  const elapsedS = previous === undefined ? 0 : (timeMs - previous.timeMs) / 1000;
  const samples = entries.map((entry): RawSample => {
    const matched = processes.filter((proc) => matches(entry, proc)).sort((a, b) => a.pid - b.pid);
    const ticks = new Map(matched.map((proc) => [proc.pid, { startTime: proc.startTime, cpuTicks: proc.cpuTicks }]));
    reading.ticks.set(entry.name, ticks);
    const attrs: RawSample['attrs'] = {
      running: matched.length,
      pids: matched.map((proc) => proc.pid).join(','),
      rssKiB: matched.reduce((sum, proc) => sum + (proc.rssKiB ?? 0), 0),
    };
    const before = previous?.ticks.get(entry.name);
    if (before !== undefined && elapsedS > 0) {
      let used = 0;
      for (const [pid, now] of ticks) {
        const then = before.get(pid);
        const base = then !== undefined && then.startTime === now.startTime ? then.cpuTicks : 0;
        used += Math.max(0, now.cpuTicks - base);
      }
      attrs['cpuPercent'] = Math.round((used / userHz / elapsedS) * 10000) / 100;
    }
    return { resource: entry.name, attrs };
  });
  return { samples, reading };
}

/** Processes read at once. */
const readBatch = 64;

/** Read failures that mean the process is gone (or not ours to read): skip it. */
const vanished = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

async function readProcessFile(procRoot: string, pid: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(procRoot, pid, file), 'utf8');
  } catch (error) {
    if (vanished.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

/** The processes under procRoot that match any entry; those that vanish while being read are left out. */
export async function readProcesses(procRoot: string, entries: WatchEntry[]): Promise<ProcessInfo[]> {
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name));
  const found: (ProcessInfo | undefined)[] = [];
  // In batches: thousands of processes must not mean thousands of open files at once.
  for (let start = 0; start < pids.length; start += readBatch) {
    found.push(...(await Promise.all(pids.slice(start, start + readBatch).map((pid) => readProcess(procRoot, pid, entries)))));
  }
  return found.filter((proc): proc is ProcessInfo => proc !== undefined);
}

async function readProcess(procRoot: string, pid: string, entries: WatchEntry[]): Promise<ProcessInfo | undefined> {
  const [statText, cmdline] = await Promise.all([readProcessFile(procRoot, pid, 'stat'), readProcessFile(procRoot, pid, 'cmdline')]);
  if (statText === undefined || cmdline === undefined) return undefined;
  const stat = parseStat(statText);
  if (stat === undefined) return undefined;
  const proc: ProcessInfo = { ...stat, argv: parseCmdline(cmdline) };
  if (!entries.some((entry) => matches(entry, proc))) return undefined;
  const status = await readProcessFile(procRoot, pid, 'status');
  if (status === undefined) return undefined;
  const rssKiB = parseVmRssKiB(status);
  return rssKiB === undefined ? proc : { ...proc, rssKiB };
}

interface ProcessContext {
  procRoot: string;
  config: Record<string, unknown>;
}

/** A producer with its own cpu reading; the default export is one with the monotonic clock. */
export function createProcessProducer(now: () => number = () => performance.now()) {
  let previous: CpuReading | undefined;
  return {
    start(): void {
      previous = undefined;
    },
    async sample(ctx: ProcessContext): Promise<RawSample[]> {
      const entries = parseProcessConfig(ctx.config);
      if (entries.length === 0) return [];
      const processes = await readProcesses(ctx.procRoot, entries);
      const result = processSamples(entries, processes, previous, now());
      previous = result.reading;
      return result.samples;
    },
    stop(): void {
      previous = undefined;
    },
  };
}

export default createProcessProducer();

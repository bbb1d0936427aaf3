// Host: one sample per period for the whole machine, named by the node:
// load averages, CPUs and their busy share, memory, uptime and process count, from
// <procRoot>/{loadavg,stat,meminfo,uptime} and <procRoot>'s numeric folders.
// A file that is absent or unreadable as expected leaves its attributes out.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EventdError, readOptional, type Attrs, type RawSample } from '../../services/eventd/sdk/index.js';

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

/** Jiffies of the `cpu` line of /proc/stat, summed over all CPUs. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface MemInfo {
  totalKiB: number;
  /** Absent before Linux 3.14. */
  availableKiB?: number;
}

/** What one period read; a missing field is a file that was absent. */
export interface HostReadings {
  loadavg?: string;
  stat?: string;
  meminfo?: string;
  uptime?: string;
  processes?: number;
}

/** `/proc/loadavg`: `0.68 0.62 0.35 1/92 20536`; the first three fields. */
export function parseLoadavg(text: string): LoadAverage | undefined {
  const [load1, load5, load15] = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (!finite(load1) || !finite(load5) || !finite(load15)) return undefined;
  return { load1, load5, load15 };
}

/**
 * The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq
 * steal guest guest_nice. guest and guest_nice are already counted in user
 * and nice, so they are left out of the total; idle and iowait are not busy.
 */
export function parseCpuTimes(text: string): CpuTimes | undefined {
  const line = /^cpu\s+(.*)$/m.exec(text)?.[1];
  if (line === undefined) return undefined;
  const fields = line.trim().split(/\s+/).slice(0, 8).map(Number);
  if (fields.length < 4 || !fields.every(finite)) return undefined;
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Online CPUs: the `cpuN` lines of `/proc/stat`; undefined when there are none. */
export function countCpus(text: string): number | undefined {
  const count = text.match(/^cpu\d+\s/gm)?.length ?? 0;
  return count > 0 ? count : undefined;
}

/** Busy share of the CPU time between two readings, two decimals; undefined with no earlier reading or no time between them. */
export function cpuPercent(previous: CpuTimes | undefined, current: CpuTimes): number | undefined {
  if (previous === undefined) return undefined;
  const total = current.total - previous.total;
  if (!(total > 0)) return undefined;
  const busy = current.busy - previous.busy;
  // iowait may step backwards on some kernels: keep the share inside 0..100.
  return Math.min(100, Math.max(0, round2((busy / total) * 100)));
}

/** MemTotal and MemAvailable (kB, which the kernel means as KiB) from `/proc/meminfo`; undefined without MemTotal. */
export function parseMemInfo(text: string): MemInfo | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const totalKiB = field('MemTotal');
  if (totalKiB === undefined) return undefined;
  const availableKiB = field('MemAvailable');
  return availableKiB === undefined ? { totalKiB } : { totalKiB, availableKiB };
}

/** `/proc/uptime`: seconds since boot, then idle seconds; the first field. */
export function parseUptime(text: string): number | undefined {
  const seconds = Number(text.trim().split(/\s+/)[0]);
  return text.trim() !== '' && finite(seconds) ? seconds : undefined;
}

/** The processes in a listing of /proc: its numeric folders (one per process, threads not listed). */
export function countProcesses(entries: { name: string; isDirectory(): boolean }[]): number {
  return entries.filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name)).length;
}

/**
 * The attributes of one period, and the CPU reading to keep for the next.
 * `cpuPercent` needs `previousCpu` and CPU time between the two; without them it is left out.
 */
export function hostAttrs(readings: HostReadings, previousCpu: CpuTimes | undefined): { attrs: Attrs; cpu: CpuTimes | undefined } {
  const attrs: Attrs = {};
  const load = readings.loadavg === undefined ? undefined : parseLoadavg(readings.loadavg);
  if (load) Object.assign(attrs, load);
  const cpus = readings.stat === undefined ? undefined : countCpus(readings.stat);
  if (cpus !== undefined) attrs['cpus'] = cpus;
  const cpu = readings.stat === undefined ? undefined : parseCpuTimes(readings.stat);
  const busyPercent = cpu === undefined ? undefined : cpuPercent(previousCpu, cpu);
  if (busyPercent !== undefined) attrs['cpuPercent'] = busyPercent;
  const memory = readings.meminfo === undefined ? undefined : parseMemInfo(readings.meminfo);
  if (memory) {
    attrs['memTotalKiB'] = memory.totalKiB;
    if (memory.availableKiB !== undefined) {
      attrs['memAvailableKiB'] = memory.availableKiB;
      attrs['memPercentUsed'] = memory.totalKiB > 0 ? round2(((memory.totalKiB - memory.availableKiB) / memory.totalKiB) * 100) : 0;
    }
  }
  const uptimeS = readings.uptime === undefined ? undefined : parseUptime(readings.uptime);
  if (uptimeS !== undefined) attrs['uptimeS'] = uptimeS;
  if (readings.processes !== undefined) attrs['processes'] = readings.processes;
  return { attrs, cpu };
}

/** `producers.Host` from config: nothing but `periodMs`; any other key is an error naming it. */
export function checkHostConfig(config: Record<string, unknown>): void {
  for (const key of Object.keys(config)) {
    if (key !== 'periodMs') throw new EventdError('EVENTD_ERR_BAD_CONFIG', `producers.Host.${key}: unknown key`, { key });
  }
}

interface Ctx {
  node: string;
  procRoot: string;
  periodMs: number;
  config: Record<string, unknown>;
}

/**
 * How long start() waits after its first CPU reading, so that the first
 * sample already carries a cpuPercent (over this window) instead of lacking
 * it: a missing attribute makes `cpuPercent > 90` false, which would rearm a
 * fired subscription after every wake or worker restart.
 */
export function cpuWarmupMs(periodMs: number): number {
  return Math.min(1000, periodMs);
}

/** The producer; the CPU reading of the previous period lives here, one per awake producer. */
export function createHostProducer() {
  let previousCpu: CpuTimes | undefined;
  return {
    async start(ctx: Ctx): Promise<void> {
      checkHostConfig(ctx.config);
      const stat = await readOptional(join(ctx.procRoot, 'stat'));
      previousCpu = stat === undefined ? undefined : parseCpuTimes(stat);
      if (previousCpu !== undefined) await new Promise((resolve) => setTimeout(resolve, cpuWarmupMs(ctx.periodMs)));
    },
    async sample(ctx: Ctx): Promise<RawSample[]> {
      const read = (file: string) => readOptional(join(ctx.procRoot, file));
      const [loadavg, stat, meminfo, uptime, processes] = await Promise.all([
        read('loadavg'),
        read('stat'),
        read('meminfo'),
        read('uptime'),
        readdir(ctx.procRoot, { withFileTypes: true }).then(countProcesses),
      ]);
      const readings: HostReadings = {};
      if (loadavg !== undefined) readings.loadavg = loadavg;
      if (stat !== undefined) readings.stat = stat;
      if (meminfo !== undefined) readings.meminfo = meminfo;
      if (uptime !== undefined) readings.uptime = uptime;
      // Every real /proc lists at least the reader itself: none at all is a recorded root without process folders.
      if (processes > 0) readings.processes = processes;
      const { attrs, cpu } = hostAttrs(readings, previousCpu);
      // A reading that could not be parsed keeps the older one: the next share then spans both periods.
      if (cpu !== undefined) previousCpu = cpu;
      return [{ resource: ctx.node, attrs }];
    },
  };
}

export default createHostProducer();


function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

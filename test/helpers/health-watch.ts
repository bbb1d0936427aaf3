// Polls daemons' /healthz while a test runs, each request with its own
// deadline, so a test can assert the daemons answered throughout. And a stop
// that cannot hang: SIGTERM, then kill -9 past a deadline.
import type { DaemonProcess } from './daemon.js';

export interface HealthReport {
  polls: number;
  /** Requests that failed or missed their deadline, with what happened. */
  failures: string[];
  slowestMs: number;
}

export function watchHealth(daemons: readonly DaemonProcess[], deadlineMs = 3_000, everyMs = 100): { stop(): Promise<HealthReport> } {
  const report: HealthReport = { polls: 0, failures: [], slowestMs: 0 };
  let running = true;
  const loops = daemons.map(async (daemon) => {
    while (running) {
      const started = Date.now();
      try {
        const response = await fetch(daemon.url + '/healthz', { signal: AbortSignal.timeout(deadlineMs) });
        await response.text();
        if (response.status !== 200) report.failures.push(`${daemon.url}: status ${response.status}`);
      } catch (error) {
        report.failures.push(`${daemon.url}: ${String(error)} after ${Date.now() - started} ms`);
      }
      report.polls++;
      report.slowestMs = Math.max(report.slowestMs, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}

/** SIGTERM; if the daemon has not exited by the deadline, kill -9 and say so. */
export async function stopWithin(daemon: DaemonProcess, deadlineMs = 15_000): Promise<'stopped' | 'killed'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), deadlineMs); });
  const outcome = await Promise.race([daemon.stop().then(() => 'stopped' as const), late]);
  clearTimeout(timer);
  if (outcome === 'stopped') return 'stopped';
  await daemon.kill9();
  return 'killed';
}

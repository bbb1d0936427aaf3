// A real daemon process with the MQTT bridge on, fed a recorded proc root so
// paging space can be pushed across a threshold by hand.
import { join } from 'node:path';
import type { EventRecord } from '../../services/eventd/types.js';
import type { Hooks } from './cleanup.js';
import { DaemonProcess } from './daemon.js';
import { setSwap } from './proc.js';

export { freshSamples } from './daemon.js';
export { setSwap };
import { waitFor } from './tmp.js';


/** A daemon on port 0 with node n1, PagingSpace every 50 ms, and `mqtt` as given; owned by `t` when given. */
export function mqttDaemon(dir: string, mqtt: Record<string, unknown>, percent = 40, t?: Hooks): { daemon: DaemonProcess; procRoot: string } {
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, percent);
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1',
    dataDir: join(dir, 'data'),
    procRoot,
    api: { port: 0 },
    producers: { PagingSpace: { periodMs: 50 } },
    log: { level: 'info' },
    mqtt,
  }, t);
  return { daemon, procRoot };
}

/** Subscribes swap-high (total only unless `where` is null); returns its id. */
export async function subscribeSwapHigh(daemon: DaemonProcess, where: string | null = '$resource = "total"'): Promise<string> {
  const body = { name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', ...(where === null ? {} : { where }) };
  const created = await daemon.request<{ id: string }>('POST', '/v1/subscriptions', body);
  if (created.status !== 201) throw new Error(`subscribe: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

export async function events(daemon: DaemonProcess): Promise<EventRecord[]> {
  return (await daemon.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events;
}

/** Waits until the log holds `count` events, and returns them. */
export async function waitForEvents(daemon: DaemonProcess, count: number): Promise<EventRecord[]> {
  return waitFor(`${count} events in the log`, async () => {
    const list = await events(daemon);
    return list.length >= count ? list : undefined;
  }, 15_000);
}


/** The value of an unlabelled metric on /metrics, or undefined when it is not there. */
export async function metric(daemon: DaemonProcess, name: string): Promise<number | undefined> {
  const { body } = await daemon.request<string>('GET', '/metrics');
  const line = String(body).split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

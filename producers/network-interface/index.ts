// NetworkInterface: one sample per network interface of the daemon's network
// namespace (the interfaces in <procRoot>/net/dev), with its link state and
// MTU from <sysRoot>/class/net/<if>/ and byte rates between two periods.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventdError, readOptional, type RawSample } from '../../services/eventd/sdk/index.js';

/** The `/proc/net/dev` counters this producer uses, totals since the interface was created. */
export interface InterfaceCounters {
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}

/** What `<sysRoot>/class/net/<if>/` says; a file that cannot be read leaves its field out. */
export interface LinkState {
  operstate?: string;
  flags?: number;
  mtu?: number;
}

/** Byte counters of each interface at one moment, for the next period's rates. */
export interface CounterReading {
  timeMs: number;
  counters: Map<string, InterfaceCounters>;
}

export interface NetworkInterfaceConfig {
  /** Only these interfaces, in this order; undefined: every interface. */
  interfaces?: string[];
}

/** IFF_UP in `flags`. */
const iffUp = 0x1;
const configKeys = new Set(['periodMs', 'interfaces']);

/** `producers.NetworkInterface` from config. Throws EVENTD_ERR_BAD_CONFIG naming the key. */
export function parseNetworkInterfaceConfig(config: Record<string, unknown>): NetworkInterfaceConfig {
  for (const key of Object.keys(config)) {
    if (!configKeys.has(key)) throw badConfig(`producers.NetworkInterface.${key}`, 'unknown key (known: periodMs, interfaces)');
  }
  const { interfaces } = config;
  if (interfaces === undefined) return {};
  if (!Array.isArray(interfaces)) throw badConfig('producers.NetworkInterface.interfaces', 'must be a list of interface names');
  const names = interfaces.map((name: unknown, index) => {
    // The kernel's rule (dev_valid_name): 1 to 15 characters, no '/', ':' or white space; never '.' or '..'.
    if (typeof name !== 'string' || !/^[^/:\s]{1,15}$/.test(name) || name === '.' || name === '..') {
      throw badConfig(`producers.NetworkInterface.interfaces[${index}]`, `must be an interface name (1 to 15 characters, no '/', ':' or spaces), got ${JSON.stringify(name)}`);
    }
    return name;
  });
  return { interfaces: [...new Set(names)] };
}

function badConfig(key: string, problem: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_CONFIG', `${key}: ${problem}`, { key });
}

/**
 * `/proc/net/dev`: two header lines, then `iface: ` and 16 numbers, receive
 * (bytes packets errs drop fifo frame compressed multicast) then transmit
 * (bytes packets errs drop fifo colls carrier compressed). Older kernels
 * leave no space after the colon. Malformed lines are skipped.
 */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const interfaces = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const numbers = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || numbers.length < 16 || !numbers.every(Number.isFinite)) continue;
    const [rxBytes = 0, , rxErrors = 0, , , , , , txBytes = 0, , txErrors = 0] = numbers;
    interfaces.set(name, { rxBytes, rxErrors, txBytes, txErrors });
  }
  return interfaces;
}

/**
 * operstate `up` is up. Loopback and many virtual links (tun, wireguard)
 * have no carrier to report and say `unknown`: then the administrative
 * IFF_UP flag decides. Any other state (down, dormant, lowerlayerdown, ...)
 * is down. Undefined when neither file could be read.
 */
export function isUp(link: LinkState): boolean | undefined {
  if (link.operstate === 'up') return true;
  if (link.operstate !== undefined && link.operstate !== 'unknown') return false;
  return link.flags === undefined ? undefined : (link.flags & iffUp) !== 0;
}

/**
 * The samples for one period, and the reading the next period's rates are
 * measured from. Rates are absent on the first reading, and for a counter
 * that went down (wrapped, or the interface was re-created) since the last.
 * With `only`, just those interfaces, in that order; one that does not exist
 * is reported with `up: false` alone.
 */
export function networkInterfaceSamples(
  counters: Map<string, InterfaceCounters>,
  links: Map<string, LinkState>,
  previous: CounterReading | undefined,
  timeMs: number,
  only?: string[],
): { samples: RawSample[]; reading: CounterReading } {
  const elapsedS = previous === undefined ? 0 : (timeMs - previous.timeMs) / 1000;
  const rate = (now: number, then: number | undefined): number | undefined =>
    then === undefined || elapsedS <= 0 || now < then ? undefined : Math.round(((now - then) / elapsedS) * 100) / 100;
  const names = only ?? [...counters.keys()];
  const samples = names.map((name): RawSample => {
    const now = counters.get(name);
    if (now === undefined) return { resource: name, attrs: { up: false } };
    const link = links.get(name) ?? {};
    const attrs: RawSample['attrs'] = {};
    const up = isUp(link);
    if (up !== undefined) attrs['up'] = up;
    const then = previous?.counters.get(name);
    const rxBytesPerS = rate(now.rxBytes, then?.rxBytes);
    const txBytesPerS = rate(now.txBytes, then?.txBytes);
    if (rxBytesPerS !== undefined) attrs['rxBytesPerS'] = rxBytesPerS;
    if (txBytesPerS !== undefined) attrs['txBytesPerS'] = txBytesPerS;
    attrs['rxErrors'] = now.rxErrors;
    attrs['txErrors'] = now.txErrors;
    if (link.mtu !== undefined) attrs['mtu'] = link.mtu;
    return { resource: name, attrs };
  });
  return { samples, reading: { timeMs, counters } };
}


/** `<sysRoot>/class/net/<name>/{operstate,flags,mtu}`; flags is hex (`0x1003`). */
export async function readLink(sysRoot: string, name: string): Promise<LinkState> {
  const folder = join(sysRoot, 'class', 'net', name);
  const [operstate, flags, mtu] = await Promise.all(['operstate', 'flags', 'mtu'].map((file) => readOptional(join(folder, file))));
  const link: LinkState = {};
  if (operstate !== undefined && operstate.trim() !== '') link.operstate = operstate.trim();
  const flagBits = flags === undefined ? NaN : parseInt(flags.trim(), 16);
  if (Number.isInteger(flagBits)) link.flags = flagBits;
  const mtuBytes = mtu === undefined || mtu.trim() === '' ? NaN : Number(mtu.trim());
  if (Number.isInteger(mtuBytes)) link.mtu = mtuBytes;
  return link;
}

interface NetworkInterfaceContext {
  procRoot: string;
  sysRoot: string;
  config: Record<string, unknown>;
}

/** A producer with its own counter reading; the default export is one with the monotonic clock. */
export function createNetworkInterfaceProducer(now: () => number = () => performance.now()) {
  let previous: CounterReading | undefined;
  return {
    start(): void {
      previous = undefined;
    },
    async sample(ctx: NetworkInterfaceContext): Promise<RawSample[]> {
      const config = parseNetworkInterfaceConfig(ctx.config);
      const counters = parseNetDev(await readFile(join(ctx.procRoot, 'net', 'dev'), 'utf8'));
      const timeMs = now();
      const names = (config.interfaces ?? [...counters.keys()]).filter((name) => counters.has(name));
      const links = new Map(await Promise.all(names.map(async (name) => [name, await readLink(ctx.sysRoot, name)] as const)));
      const result = networkInterfaceSamples(counters, links, previous, timeMs, config.interfaces);
      previous = result.reading;
      return result.samples;
    },
    stop(): void {
      previous = undefined;
    },
  };
}

export default createNetworkInterfaceProducer();

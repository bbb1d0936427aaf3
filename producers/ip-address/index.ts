// IPAddress: one sample per address on this node (os.networkInterfaces(),
// the addresses of the daemon's network namespace), and one per address in
// producers.IPAddress.addresses even when absent, so an address that moves
// to another node is seen leaving (present: false): what failover watches.
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { EventdError, type RawSample } from '../../services/eventd/sdk/index.js';

export interface IPAddressConfig {
  /** Normalised, in config order, without repeats. */
  addresses: string[];
  includeLoopback: boolean;
}

const configKeys = new Set(['periodMs', 'addresses', 'includeLoopback']);

/** `producers.IPAddress` from config. Throws EVENTD_ERR_BAD_CONFIG naming the key. */
export function parseIPAddressConfig(config: Record<string, unknown>): IPAddressConfig {
  for (const key of Object.keys(config)) {
    if (!configKeys.has(key)) throw badConfig(`producers.IPAddress.${key}`, 'unknown key (known: periodMs, addresses, includeLoopback)');
  }
  const { addresses = [], includeLoopback = false } = config;
  if (typeof includeLoopback !== 'boolean') throw badConfig('producers.IPAddress.includeLoopback', 'must be true or false');
  if (!Array.isArray(addresses)) throw badConfig('producers.IPAddress.addresses', 'must be a list of IPv4 or IPv6 addresses');
  const normalised = addresses.map((address: unknown, index) => {
    const text = typeof address === 'string' ? normaliseAddress(address) : undefined;
    if (text === undefined) {
      throw badConfig(`producers.IPAddress.addresses[${index}]`, `must be an IPv4 or IPv6 address without prefix or zone, got ${JSON.stringify(address)}`);
    }
    return text;
  });
  return { addresses: [...new Set(normalised)], includeLoopback };
}

function badConfig(key: string, problem: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_CONFIG', `${key}: ${problem}`, { key });
}

/**
 * One text per address, so a configured `FE80::0001` is the `fe80::1` the
 * kernel reports: IPv4 as is (isIP refuses leading zeros), IPv6 in RFC 5952
 * form (lower case, no leading zeros, the longest run of two or more zero
 * groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`). Undefined when not an
 * address (a zone `%eth0` or a `/prefix` included).
 */
export function normaliseAddress(text: string): string | undefined {
  const family = text.includes('%') ? 0 : isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  const groups = ipv6Groups(text);
  if (groups === undefined) return undefined;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return `::ffff:${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  // The longest run of zero groups, the first of equals; a single zero group stays `0`.
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** The eight 16-bit groups of an address isIP already accepted as IPv6. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.toLowerCase().split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return undefined;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

/** 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** From the `cidr` os gives, else by counting the netmask's bits. */
export function prefixLength(info: Pick<NetworkInterfaceInfo, 'cidr' | 'netmask'>): number | undefined {
  const fromCidr = info.cidr === null ? undefined : Number(info.cidr.slice(info.cidr.lastIndexOf('/') + 1));
  if (fromCidr !== undefined && Number.isInteger(fromCidr)) return fromCidr;
  const mask = normaliseAddress(info.netmask);
  if (mask === undefined) return undefined;
  const bits =
    isIP(mask) === 4
      ? mask.split('.').map((octet) => Number(octet).toString(2).padStart(8, '0'))
      : (ipv6Groups(mask) ?? []).map((group) => group.toString(2).padStart(16, '0'));
  // A netmask is contiguous ones: the prefix length is where the last one is.
  return bits.join('').replace(/0+$/, '').length;
}

/**
 * The samples for one period. An address on several interfaces (the same
 * link-local address on two links) is one sample: `interface` lists them,
 * comma-separated, in the order os reports them; prefixLength is the first's.
 * Loopback addresses are left out unless includeLoopback is set or they are
 * configured. Present addresses come first, in os order, then the
 * configured ones that are absent, in config order.
 */
export function ipAddressSamples(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
  configured: string[],
  options: { includeLoopback?: boolean } = {},
): RawSample[] {
  const wanted = new Set(configured.map((address) => normaliseAddress(address) ?? address));
  const present = new Map<string, { interfaces: string[]; family: string; prefixLength: number | undefined }>();
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      const address = normaliseAddress(info.address);
      if (address === undefined) continue;
      if (isLoopback(address) && options.includeLoopback !== true && !wanted.has(address)) continue;
      const seen = present.get(address);
      if (seen !== undefined) {
        if (!seen.interfaces.includes(name)) seen.interfaces.push(name);
        continue;
      }
      present.set(address, { interfaces: [name], family: familyOf(address), prefixLength: prefixLength(info) });
    }
  }
  const samples: RawSample[] = [];
  for (const [address, seen] of present) {
    const attrs: RawSample['attrs'] = { present: true, interface: seen.interfaces.join(','), family: seen.family };
    if (seen.prefixLength !== undefined) attrs['prefixLength'] = seen.prefixLength;
    samples.push({ resource: address, attrs });
  }
  for (const address of wanted) {
    if (!present.has(address)) samples.push({ resource: address, attrs: { present: false, family: familyOf(address) } });
  }
  return samples;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

export default {
  sample(ctx: { config: Record<string, unknown> }): RawSample[] {
    const config = parseIPAddressConfig(ctx.config);
    return ipAddressSamples(networkInterfaces(), config.addresses, { includeLoopback: config.includeLoopback });
  },
};

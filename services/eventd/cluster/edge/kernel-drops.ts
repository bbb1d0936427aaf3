// The kernel's count of datagrams it dropped for one of our UDP sockets
// (receive buffer full), read from /proc/net/udp{,6}: the last column,
// `drops`, of the line whose local address has our port. These drops happen
// before the socket, so no counter of ours could see them.
import { readFileSync } from 'node:fs';

export function kernelReceiveDrops(port: number, ipv6: boolean, procRoot = '/proc'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/net/${ipv6 ? 'udp6' : 'udp'}`, 'utf8');
  } catch {
    return undefined;
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let drops: number | undefined;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || !local.endsWith(`:${portHex}`)) continue;
    const value = Number(fields[fields.length - 1]);
    if (Number.isSafeInteger(value)) drops = (drops ?? 0) + value;
  }
  return drops;
}

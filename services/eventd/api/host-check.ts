// DNS rebinding: a web page the operator opens can make the browser send
// requests to 127.0.0.1 under the attacker's own host name. The browser still
// says that name in Host, so a request over TCP must name this listener: its
// address, localhost, 127.0.0.1 or [::1] with the port it came in on, or a
// name listed in api.allowedHosts. (The token stops such a page too; this is
// the second wall, and it is what keeps /healthz from being read that way.)
import { isIP } from 'node:net';

export interface HostCheck {
  /** Whether `host` (the Host header) names the listener reached at localAddress:localPort. */
  allows(host: string | undefined, localAddress: string | undefined, localPort: number): boolean;
}

export function hostCheck(boundHost: string, allowedHosts: readonly string[]): HostCheck {
  const extra = allowedHosts.map((entry) => entry.toLowerCase());
  return {
    allows(host, localAddress, localPort) {
      if (host === undefined || host === '') return false;
      const given = host.toLowerCase();
      const names = ['localhost', '127.0.0.1', '[::1]', literal(boundHost), ...(localAddress === undefined ? [] : [literal(localAddress)])];
      const withPort = names.map((name) => `${name}:${localPort}`);
      if (localPort === 80) withPort.push(...names);
      if (withPort.includes(given)) return true;
      // api.allowedHosts: "name" allows it on this port, "name:port" exactly that.
      return extra.some((entry) => entry === given || `${entry}:${localPort}` === given);
    },
  };
}

/** How an address appears in a Host header: IPv6 in brackets, an IPv4-mapped address as its IPv4 form. */
function literal(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  return isIP(address) === 6 ? `[${address.toLowerCase()}]` : address.toLowerCase();
}

// Who is calling, decided once per request (onRequest) by `authenticate`:
// - a peer on the unix socket <dataDir>/api.sock is whoever the kernel let
//   connect (the socket is 0660, owner and api.socketGroup): `uid:<n>`;
// - over TCP, a bearer token is required even on loopback, and the Host
//   header must name the listener: `token:<name>`;
// - `inject` (in-process tests) has no socket; it is held to the tokens too
//   unless the context says `tokens: 'none'`.
// Routes read `request.caller`; the audit (audit.ts) records it for writes.
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NamedToken } from '../config.js';
import { EventdError } from '../errors.js';
import type { HostCheck } from './host-check.js';
import { peerUid } from './unix-peer.js';
import { isConsoleRequest } from './ui-session.js';

export interface Caller {
  via: 'socket' | 'tcp' | 'in-process';
  /** `uid:<n>` (socket), `token:<name>` (TCP), `anonymous` (an open path without credentials). */
  who: string;
}

export interface AuthOptions {
  /** Bearer tokens accepted over TCP; 'none' only for in-process tests (the daemon always has one). */
  tokens: readonly NamedToken[] | 'none';
  hosts: HostCheck;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** Open without credentials: liveness probes must work before anyone holds the token. */
const openPaths = new Set(['/healthz']);

/** Connections accepted on the unix socket (unix-listener.ts marks them). */
export const unixConnections = new WeakSet<Socket>();

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request) => {
    // Console (issue 15): /ui/... has its own gate, a session cookie (ui-session.ts); the Host rule holds for it too.
    if (isConsoleRequest(request)) {
      const socket = request.raw.socket;
      if (socket.localPort !== undefined && !unixConnections.has(socket) && !options.hosts.allows(request.headers.host, socket.localAddress, socket.localPort)) {
        throw new EventdError('EVENTD_ERR_FORBIDDEN_HOST', `Host "${request.headers.host ?? ''}" does not name this listener (DNS rebinding?); add it to api.allowedHosts if it is yours`, { host: request.headers.host ?? null });
      }
      request.caller = { via: 'tcp', who: 'console' };
      return;
    }
    const decided = await authenticate(request, options);
    if (decided instanceof EventdError) {
      if (decided.code === 'EVENTD_ERR_UNAUTHORIZED' && openPaths.has(request.url.split('?')[0] ?? '')) {
        request.caller = { via: request.socket.localPort === undefined ? 'in-process' : 'tcp', who: 'anonymous' };
        return;
      }
      throw decided;
    }
    request.caller = decided;
  });
}

/** Decides "authenticated as whom" from the request alone: a Caller, or the error that refuses it. */
export async function authenticate(request: FastifyRequest, options: AuthOptions): Promise<Caller | EventdError> {
  const socket = request.raw.socket;
  if (unixConnections.has(socket)) {
    const uid = await peerUid(socket);
    return { via: 'socket', who: uid === undefined ? 'uid:unknown' : `uid:${uid}` };
  }
  const via = socket.localPort === undefined ? 'in-process' : 'tcp';
  if (via === 'tcp' && !options.hosts.allows(request.headers.host, socket.localAddress, socket.localPort as number)) {
    return new EventdError('EVENTD_ERR_FORBIDDEN_HOST', `Host "${request.headers.host ?? ''}" does not name this listener (DNS rebinding?); add it to api.allowedHosts if it is yours`, { host: request.headers.host ?? null });
  }
  if (options.tokens === 'none') return { via, who: via };
  const name = tokenName(request.headers.authorization, options.tokens);
  if (name === undefined) {
    return new EventdError('EVENTD_ERR_UNAUTHORIZED', 'a bearer token is required over TCP: use the unix socket <dataDir>/api.sock, or send "Authorization: Bearer <token>" (<dataDir>/api-token, api.token or api.tokens; eventctl reads them itself)');
  }
  return { via, who: `token:${name}` };
}

function tokenName(header: string | undefined, tokens: readonly NamedToken[]): string | undefined {
  const given = Buffer.from(header ?? '');
  let found: string | undefined;
  // Every token is compared (in constant time each), so timing tells nothing about which came close.
  for (const { name, token } of tokens) {
    const expected = Buffer.from(`Bearer ${token}`);
    if (given.length === expected.length && timingSafeEqual(given, expected)) found ??= name;
  }
  return found;
}

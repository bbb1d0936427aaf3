// The web console's sessions (issue 15). `eventctl ui` mints a one-time login
// code over the API (so it holds whatever the API's token rule asks for);
// following /ui/login?code=... trades it for a session cookie and redirects to
// /ui/, dropping the code from the address bar. The prompt at /ui/ takes the
// API token or a login code. A session is a signed cookie (HMAC under a
// secret kept in the data folder, mixed with the API token), so it survives
// a daemon restart and dies when the token changes. The cookie is scoped to
// /ui: the page reaches the API under /ui/v1/..., rewritten to /v1/... here.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EventdError } from '../errors.js';

export const sessionCookie = 'eventd_console';
const consolePrefix = '/ui';
const sessionTtlMs = 24 * 3_600_000;
const loginCodeTtlMs = 10 * 60_000;
const secretFile = 'console-secret';
/** Written by the daemon-hardening work when no api.token is configured (issue 10). */
const generatedTokenFile = 'api-token';

/** fastify's rewriteUrl: the console's API calls, /ui/v1/..., reach the routes at /v1/... */
export function rewriteConsoleUrl(url: string): string {
  return url.startsWith(`${consolePrefix}/v1/`) ? url.slice(consolePrefix.length) : url;
}

/** A request to the console (its page, login, or its API calls): the console's own gate decides, not the bearer check. */
export function isConsoleRequest(request: FastifyRequest): boolean {
  const path = request.originalUrl.split('?')[0] ?? '';
  return path === consolePrefix || path.startsWith(`${consolePrefix}/`);
}

export interface ConsoleSessionsOptions {
  dataDir: string;
  /** api.token from the config; absent: the token file in the data folder, if any. */
  token: string | undefined;
  now?: () => number;
}

export class ConsoleSessions {
  private readonly secret: Buffer;
  /** Unused login codes and when each expires; in memory: a restart voids them, not the sessions they made. */
  private readonly codes = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: ConsoleSessionsOptions) {
    this.secret = loadSecret(join(options.dataDir, secretFile));
    this.now = options.now ?? Date.now;
  }

  /** The token the API expects, if there is one. */
  apiToken(): string | undefined {
    if (this.options.token !== undefined) return this.options.token;
    const file = join(this.options.dataDir, generatedTokenFile);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
  }

  mintLoginCode(): { code: string; expiresAt: number } {
    const now = this.now();
    for (const [code, expiresAt] of this.codes) if (expiresAt <= now) this.codes.delete(code);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + loginCodeTtlMs;
    this.codes.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** True for an unexpired, unused login code (then used up) or the API token itself. */
  redeem(secret: string): boolean {
    const expiresAt = this.codes.get(secret);
    if (expiresAt !== undefined) {
      this.codes.delete(secret);
      return expiresAt > this.now();
    }
    const token = this.apiToken();
    return token !== undefined && sameText(secret, token);
  }

  /** A fresh session's cookie value: expiry, nonce and a MAC over both. */
  issue(): string {
    const body = `${(this.now() + sessionTtlMs).toString(36)}.${randomBytes(16).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  valid(value: string | undefined): boolean {
    if (value === undefined) return false;
    const parts = value.split('.');
    if (parts.length !== 3) return false;
    const [expiry, nonce, mac] = parts as [string, string, string];
    const body = `${expiry}.${nonce}`;
    return sameText(mac, this.mac(body)) && Number.parseInt(expiry, 36) > this.now();
  }

  /** Set-Cookie for a session: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), the console's path only. */
  setCookie(value: string): string {
    return `${sessionCookie}=${value}; Path=${consolePrefix}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(sessionTtlMs / 1000)}`;
  }

  clearCookie(): string {
    return `${sessionCookie}=; Path=${consolePrefix}; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  private mac(body: string): string {
    // Keyed by the secret and the token: changing the token ends every session.
    const key = createHmac('sha256', this.secret).update(`session:${this.apiToken() ?? ''}`).digest();
    return createHmac('sha256', key).update(body).digest('base64url');
  }
}

/** The login routes and the gate in front of the console's API calls (/ui/v1/...). */
export function registerConsoleSessions(app: FastifyInstance, sessions: ConsoleSessions): void {
  const hasSession = (request: FastifyRequest) => sessions.valid(cookieValue(request.headers.cookie, sessionCookie));

  app.addHook('onRequest', async (request) => {
    if (!request.originalUrl.startsWith(`${consolePrefix}/v1/`)) return;
    if (!hasSession(request)) throw new EventdError('EVENTD_ERR_UNAUTHORIZED', 'no console session: open the link `eventctl ui` prints, or enter the token at /ui/');
  });

  app.post('/v1/ui/login-codes', async (_request, reply) => {
    const { code, expiresAt } = sessions.mintLoginCode();
    return reply.status(201).send({ code, path: `${consolePrefix}/login?code=${code}`, expiresAt: new Date(expiresAt).toISOString() });
  });

  // The link `eventctl ui` prints. 303 to /ui/ either way, so the code leaves the address bar and history's last entry.
  app.get<{ Querystring: { code?: string } }>(`${consolePrefix}/login`, async (request, reply) => {
    const code = request.query.code;
    if (code !== undefined && sessions.redeem(code)) {
      return reply.header('set-cookie', sessions.setCookie(sessions.issue())).header('cache-control', 'no-store').redirect(`${consolePrefix}/`, 303);
    }
    return reply.header('cache-control', 'no-store').redirect(`${consolePrefix}/?login=expired`, 303);
  });

  // The prompt's form: the API token or a login code.
  app.post<{ Body: { secret: string } }>(
    `${consolePrefix}/login`,
    { schema: { body: { type: 'object', additionalProperties: false, required: ['secret'], properties: { secret: { type: 'string', minLength: 1, maxLength: 1024 } } } } },
    async (request, reply) => {
      if (!sessions.redeem(request.body.secret)) {
        throw new EventdError('EVENTD_ERR_UNAUTHORIZED', 'secret: not the API token nor an unused login code', { field: 'secret' });
      }
      return reply.header('set-cookie', sessions.setCookie(sessions.issue())).status(204).send();
    },
  );

  app.get(`${consolePrefix}/session`, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    return { authenticated: hasSession(request) };
  });

  app.post(`${consolePrefix}/logout`, async (_request, reply) => reply.header('set-cookie', sessions.clearCookie()).status(204).send());
}

/** One cookie's value from a Cookie header (RFC 6265: `a=1; b=2`). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** 32 random bytes, made once per data folder, readable by its owner only. */
function loadSecret(file: string): Buffer {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { EventdError } from '../../errors.js';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

// Everything the page loads comes from this daemon: the policy makes a stray CDN reference fail loudly in the browser.
const securityHeaders = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * The console's files (dist/ui, bundled at build), read once at start and
 * served from memory: a fixed set, so no request path ever reaches the file system.
 */
export function consoleRoutes(app: FastifyInstance, assetsDir: string): void {
  const files = new Map<string, Buffer>();
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) if (contentTypes[extname(name)] !== undefined) files.set(name, readFileSync(join(assetsDir, name)));
  }
  const send = (reply: FastifyReply, name: string) => {
    const body = files.get(name);
    if (body === undefined) {
      throw new EventdError('EVENTD_ERR_NOT_FOUND', name === 'index.html' ? 'the console is not built: run npm run build' : `no console file ${name}`);
    }
    return reply.headers(securityHeaders).type(contentTypes[extname(name)] ?? 'application/octet-stream').send(body);
  };

  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/', async (_request, reply) => send(reply, 'index.html'));
  app.get<{ Params: { name: string } }>('/ui/assets/:name', async (request, reply) => send(reply, request.params.name));
}

// The API on a unix socket in the data folder: who may connect is decided by
// the kernel from the socket's mode (0660) and group (api.socketGroup, else
// the daemon's), so nothing secret is needed. Connections are handed to the
// same HTTP server fastify runs on TCP, so routes, hooks and close() treat
// both alike; auth.ts tells them apart by the mark set here.
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { EventdError } from '../errors.js';
import type { Group } from '../system/accounts.js';
import { unixConnections } from './auth.js';

export async function listenUnix(app: FastifyInstance, path: string, group: Group | undefined): Promise<Server> {
  removeStale(path);
  const server = createServer((socket) => {
    unixConnections.add(socket);
    app.server.emit('connection', socket);
  });
  // bind() creates the socket file with the umask's mode: 0600 until chmod
  // below, so no one else can connect in between.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new EventdError('EVENTD_ERR_STARTUP', `${path}: cannot listen on the API socket: ${(error as Error).message}`, { path });
  } finally {
    process.umask(umask);
  }
  try {
    if (group !== undefined) chownSync(path, -1, group.gid);
    chmodSync(path, 0o660);
  } catch (error) {
    server.close();
    throw new EventdError('EVENTD_ERR_STARTUP', `${path}: cannot give the API socket to group ${group?.name ?? '(own)'}: ${(error as Error).message}`, { path });
  }
  return server;
}

/** A socket file left by a daemon that was killed: the caller holds the data folder's lock, so it is no one's. */
function removeStale(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there.
  }
}

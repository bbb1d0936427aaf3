// Where eventctl sends its requests, found without flags when it can be, so
// the README's commands work as they are for root and for the socket's group:
//   1. --socket PATH (EVENTD_SOCKET): that unix socket;
//   2. --api URL or EVENTD_API given: that URL, with --token / EVENTD_TOKEN, or
//      else the token file of the daemon's data folder when readable;
//   3. otherwise the daemon's data folder (--data-dir / EVENTD_DATA_DIR, or the
//      note the daemon on the default port left in /run/eventd, or ./.eventd):
//      its socket when this user may connect (root, or in the socket's group),
//      else its token file over TCP when readable (root), else the socket, so
//      the error names the file and the permission.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findAdvert } from '../api/discovery.js';
import { apiSocketFileName, apiTokenFileName } from '../api/local-files.js';

export interface Endpoint {
  /** For messages: the URL, or unix:<path>. */
  label: string;
  /** The base URL requests are built on (over a socket, its host is only a name). */
  base: string;
  socketPath?: string;
  token?: string;
}

export interface EndpointOptions {
  api: string;
  /** --api or EVENTD_API was given (not the default). */
  apiGiven: boolean;
  token?: string | undefined;
  socket?: string | undefined;
  dataDir?: string | undefined;
}

/** The default folder of `eventd` started in this directory (config.ts defaults.dataDir). */
const defaultDataDir = './.eventd';

export function resolveEndpoint(options: EndpointOptions): Endpoint {
  if (options.socket !== undefined) return overSocket(resolve(options.socket), options.token);
  const port = portOf(options.api);
  const advertised = options.dataDir === undefined && port !== undefined ? findAdvert(port) : undefined;
  const dataDir = options.dataDir ?? advertised?.dataDir ?? (existsSync(defaultDataDir) ? resolve(defaultDataDir) : undefined);
  if (options.apiGiven || options.token !== undefined || dataDir === undefined) {
    const token = options.token ?? (dataDir === undefined ? undefined : readToken(join(dataDir, apiTokenFileName)));
    return { label: options.api, base: options.api, ...(token === undefined ? {} : { token }) };
  }
  const socket = advertised?.socket ?? join(dataDir, apiSocketFileName);
  if (mayConnect(socket)) return overSocket(socket, undefined);
  const token = readToken(join(dataDir, apiTokenFileName));
  if (token !== undefined) return { label: options.api, base: options.api, token };
  return overSocket(socket, undefined);
}

function overSocket(path: string, token: string | undefined): Endpoint {
  return { label: `unix:${path}`, base: 'http://localhost', socketPath: path, ...(token === undefined ? {} : { token }) };
}

function portOf(api: string): number | undefined {
  try {
    const url = new URL(api);
    return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  } catch {
    return undefined;
  }
}

/** connect() on a unix socket needs write permission on it. */
function mayConnect(socket: string): boolean {
  try {
    accessSync(socket, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readToken(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

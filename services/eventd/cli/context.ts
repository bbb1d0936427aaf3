// What every command gets from the global options: a client and the output mode.
import type { Command } from 'commander';
import { EventdClient } from './client.js';
import { resolveEndpoint } from './endpoint.js';

/** The defaults, in one place. */
export const defaults = {
  api: 'http://127.0.0.1:7070',
  requestTimeoutMs: 30_000,
} as const;

export interface GlobalOptions {
  api: string;
  token?: string;
  socket?: string;
  dataDir?: string;
  json?: boolean;
}

export interface CliContext {
  client: EventdClient;
  json: boolean;
  /** Writes to stdout as is. */
  write(text: string): void;
  /** Writes one JSON document (--json). */
  writeJson(value: unknown): void;
}

export function contextOf(command: Command): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  let root = command;
  while (root.parent !== null) root = root.parent;
  const source = root.getOptionValueSource('api');
  const endpoint = resolveEndpoint({
    api: options.api,
    apiGiven: source === 'cli' || source === 'env',
    // An empty EVENTD_TOKEN is no token: the data folder's file is read then.
    token: options.token === '' ? undefined : options.token,
    socket: options.socket,
    dataDir: options.dataDir,
  });
  const client = new EventdClient({
    api: endpoint.base, socketPath: endpoint.socketPath, label: endpoint.label, token: endpoint.token, requestTimeoutMs: defaults.requestTimeoutMs,
  });
  const write = (text: string) => {
    process.stdout.write(text);
  };
  return {
    client,
    json: options.json === true,
    write,
    writeJson: (value) => write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

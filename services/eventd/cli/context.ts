// What every command gets from the global options: a client and the output mode.
import type { Command } from 'commander';
import { EventdClient } from './client.js';

/** The defaults, in one place. */
export const defaults = {
  api: 'http://127.0.0.1:7070',
  requestTimeoutMs: 30_000,
} as const;

export interface GlobalOptions {
  api: string;
  token?: string;
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
  const client = new EventdClient({ api: options.api, token: options.token, requestTimeoutMs: defaults.requestTimeoutMs });
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

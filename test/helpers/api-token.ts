// The API token a daemon generated at first start (<dataDir>/api-token), read
// from the folder its config file names: what eventctl reads as root.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { apiTokenFileName } from '../../services/eventd/api/local-files.js';

/** The daemon's data folder, as it resolves it: relative to the config file's folder. */
export function dataDirOf(configFile: string): string {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { dataDir?: string };
  return resolve(dirname(configFile), config.dataDir ?? './.eventd');
}

/** `Authorization` for the daemon of `configFile`: its configured api.token, or the generated one. */
export function authHeader(configFile: string): Record<string, string> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { api?: { token?: string } };
  const token = config.api?.token ?? readFileSync(join(dataDirOf(configFile), apiTokenFileName), 'utf8').trim();
  return { authorization: `Bearer ${token}` };
}

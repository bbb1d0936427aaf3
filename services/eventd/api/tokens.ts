// Bearer tokens for the API over TCP. A token is always required on TCP, on
// loopback too: any local user can reach 127.0.0.1. Without api.token(s) in
// the config, one is generated at first start into <dataDir>/api-token, mode
// 0600, so only the daemon's user (root) reads it; others use the socket.
import { randomBytes } from 'node:crypto';
import { chmodSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, NamedToken } from '../config.js';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import { apiTokenFileName, generatedTokenName } from './local-files.js';

export function apiTokens(config: Config, logger: Logger): readonly NamedToken[] {
  if (config.api.tokens.length > 0) return config.api.tokens;
  return [{ name: generatedTokenName, token: generatedToken(config.dataDir, logger) }];
}

function generatedToken(dataDir: string, logger: Logger): string {
  const file = join(dataDir, apiTokenFileName);
  try {
    const fd = openSync(file, 'wx', 0o600);
    const token = randomBytes(32).toString('base64url');
    writeSync(fd, `${token}\n`);
    closeSync(fd);
    logger.info({ file }, 'generated the API token');
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw startupError(file, error);
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    logger.warn({ file }, 'the API token file was readable by others; made it 0600');
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new EventdError('EVENTD_ERR_STARTUP', `${file}: the API token is shorter than 16 characters; delete the file to have a new one generated`);
  return token;
}

function startupError(file: string, error: unknown): EventdError {
  return new EventdError('EVENTD_ERR_STARTUP', `${file}: cannot write the API token: ${(error as Error).message}`, { path: file });
}

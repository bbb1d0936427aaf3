// An action as a client sent it (already valid against schemas/action.schema.json),
// checked and with its defaults filled in; every error names the field.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseDuration } from '../duration.js';
import { EventdError } from '../errors.js';
import type { ActionCommon, ActionSpec, CrossingType } from '../types.js';

export const defaultActionTimeout = '60s';
export const defaultWebhookMethod = 'POST';

/** The shape schemas/action.schema.json admits. */
export interface RawAction {
  run?: string;
  args?: string[];
  expectedExit?: number;
  detach?: boolean;
  webhook?: { url: string; method?: string; headers?: Record<string, string>; timeout?: string };
  email?: { to: string[]; subject?: string };
  timeout?: string;
  on?: CrossingType[];
  where?: ActionCommon['where'];
  maxAttempts?: number;
  maxAge?: string;
}

function bad(field: string, message: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_ACTION', `${field}: ${message}`, { field });
}

/** `field` is where the action sits, e.g. `actions[0]`. */
export function checkAction(action: RawAction, field: string): ActionSpec {
  const kinds = (['run', 'webhook', 'email'] as const).filter((kind) => action[kind] !== undefined);
  if (kinds.length !== 1) throw bad(field, `give exactly one of run, webhook, email (got ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
  const timeout = action.timeout ?? action.webhook?.timeout ?? defaultActionTimeout;
  // A zero timeout would kill every run at once (and `0s` is how a user might mean "none").
  if (parseDuration(timeout, `${field}.timeout`) <= 0) {
    throw new EventdError('EVENTD_ERR_BAD_DURATION', `${field}.timeout: "${timeout}" must be longer than 0 (the default is ${defaultActionTimeout})`, { field: `${field}.timeout` });
  }
  if (action.maxAge !== undefined) parseDuration(action.maxAge, `${field}.maxAge`);
  const common: ActionCommon = {
    timeout,
    on: action.on ?? ['event', 'rearm'],
    ...(action.where === undefined ? {} : { where: action.where }),
    ...(action.maxAttempts === undefined ? {} : { maxAttempts: action.maxAttempts }),
    ...(action.maxAge === undefined ? {} : { maxAge: action.maxAge }),
  };
  if (action.webhook !== undefined) {
    const { url, method, headers } = action.webhook;
    checkWebhookUrl(url, `${field}.webhook.url`);
    return { webhook: { url, method: method ?? defaultWebhookMethod, ...(headers === undefined ? {} : { headers }) }, ...common };
  }
  if (action.email !== undefined) {
    const { to, subject } = action.email;
    return { email: { to, ...(subject === undefined ? {} : { subject }) }, ...common };
  }
  const run = action.run as string;
  checkExecutable(run, `${field}.run`);
  return {
    run,
    ...(action.args === undefined ? {} : { args: action.args }),
    ...(action.expectedExit === undefined ? {} : { expectedExit: action.expectedExit }),
    ...(action.detach === undefined ? {} : { detach: action.detach }),
    ...common,
  };
}

function checkWebhookUrl(url: string, field: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(field, `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad(field, `"${url}" must be an http:// or https:// URL`);
}

function checkExecutable(run: string, field: string): void {
  if (!isAbsolute(run)) throw bad(field, `"${run}" must be an absolute path (eventctl resolves relative paths for you)`);
  try {
    if (!statSync(run).isFile()) throw new Error('not a regular file');
    accessSync(run, constants.X_OK);
  } catch (error) {
    throw bad(field, `"${run}" is not an executable file: ${(error as Error).message}`);
  }
}

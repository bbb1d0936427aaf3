import type { ApiErrorBody } from '../logic/types.js';
import { isApiErrorBody } from '../logic/types.js';

/** The console's API base: /ui/v1 is /v1, reached with the session cookie (Path=/ui). */
export const apiBase = '/ui/v1';

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(isApiErrorBody(body) ? body.error.message : `the daemon answered ${status}`);
  }

  get code(): string | undefined {
    return isApiErrorBody(this.body) ? (this.body as ApiErrorBody).error.code : undefined;
  }
}

/** Called on a 401: the session ended (expired, or the token changed). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${apiBase}${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text for the message
  }
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiFailure(response.status, parsed);
  return parsed as T;
}

export const get = <T>(path: string) => request<T>('GET', path);

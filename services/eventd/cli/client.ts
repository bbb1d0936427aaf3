// HTTP client for the local API: bearer token, JSON bodies, and every failure
// turned into one of the CLI's errors (errors.ts) so commands never see raw
// fetch or HTTP details.
import type { ErrorBody } from '../api/responses.js';
import { ApiError, CliError, UnreachableError } from './errors.js';
import { fetchOverSocket } from './unix-fetch.js';

export interface ClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:7070 (a path prefix is kept); over a socket, only its path counts. */
  api: string;
  /** The daemon's unix socket (endpoint.ts); absent: TCP to `api`. */
  socketPath?: string | undefined;
  /** How to name the daemon in messages; `api` when absent. */
  label?: string | undefined;
  token?: string | undefined;
  /** Per-request limit for ordinary (non-streaming) requests. */
  requestTimeoutMs: number;
}

export type Query = Record<string, string | number | undefined>;

export class EventdClient {
  private readonly base: URL;

  constructor(private readonly options: ClientOptions) {
    // A trailing slash makes relative paths append to any prefix in --api.
    this.base = new URL(options.api.endsWith('/') ? options.api : `${options.api}/`);
  }

  get api(): string {
    return this.options.label ?? this.options.api;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, {}, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {}, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /**
   * Opens a Server-Sent Events stream. Resolves once the daemon answered 2xx;
   * an error answer rejects with ApiError, no answer with UnreachableError.
   */
  async openStream(path: string, query: Query, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.authHeader() };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await this.send(this.url(path, query), { method: 'GET', headers, signal });
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  /**
   * POSTs a JSON body and hands back the answer as it streams (newline-delimited JSON).
   * Resolves once the daemon answered 2xx; an error answer rejects with ApiError, no answer with UnreachableError.
   */
  async postStream(path: string, body: unknown, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/x-ndjson', 'content-type': 'application/json', ...this.authHeader() };
    const response = await this.send(this.url(path, {}), { method: 'POST', headers, body: JSON.stringify(body), signal });
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  private async request<T>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeader() };
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.options.requestTimeoutMs) };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await this.send(this.url(path, query), init);
    if (!response.ok) throw await errorFrom(response);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`eventd answered ${method} ${path} with a body that is not JSON: ${preview(text)}`);
    }
  }

  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await (this.options.socketPath === undefined ? fetch(url, init) : fetchOverSocket(this.options.socketPath, url, init));
    } catch (error) {
      if (init.signal?.aborted) {
        // AbortSignal.timeout() fired; a caller's own abort (SIGINT) goes back to the caller as is.
        if (isTimeout(init.signal.reason)) throw new UnreachableError(this.api, `no answer within ${this.options.requestTimeoutMs / 1000}s`);
        throw error;
      }
      throw new UnreachableError(this.api, reasonOf(error));
    }
  }

  private url(path: string, query: Query): URL {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private authHeader(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }
}

/** Encodes one path segment (a subscription id or name). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

async function errorFrom(response: Response): Promise<CliError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    const error = body.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new ApiError(response.status, error.code, error.message, error.details);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  const detail = text.trim() === '' ? '' : `: ${preview(text)}`;
  return new ApiError(response.status, `HTTP_${response.status}`, `eventd answered ${response.status} ${response.statusText}${detail}`, undefined);
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/** fetch says "fetch failed"; the useful words are in its cause (possibly an AggregateError with only a code). */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    if (cause.message !== '') return cause.message;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message : String(error);
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

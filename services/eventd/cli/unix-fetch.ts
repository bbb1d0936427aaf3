// fetch() over a unix socket: node:http speaks HTTP over any socket path, and
// its answer is handed back as a web Response, so the client and the event
// stream reader treat both transports alike.
import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export function fetchOverSocket(socketPath: string, url: URL, init: RequestInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined), host: 'localhost' };
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const outgoing = request({ socketPath, path: `${url.pathname}${url.search}`, method: init.method ?? 'GET', headers, ...(init.signal ? { signal: init.signal } : {}) }, (incoming) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item);
        else if (value !== undefined) responseHeaders.set(name, value);
      }
      const status = incoming.statusCode ?? 500;
      const noBody = status === 204 || status === 304;
      if (noBody) incoming.resume();
      // Node's web stream type and the DOM's are the same object; TypeScript knows them as two types.
      const stream = noBody ? null : (Readable.toWeb(incoming) as WebReadableStream<Uint8Array> as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

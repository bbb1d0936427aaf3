// Real receivers in the test process, on loopback: an HTTP webhook receiver
// (node:http) that can fail the first deliveries of each event, and an SMTP
// server (smtp-server) that keeps what it is sent.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Delivery {
  key: string;
  body: string;
  /** The status answered. */
  status: number;
  at: number;
}

export interface WebhookReceiverOptions {
  /** The first N deliveries of each Idempotency-Key are answered `failStatus`. */
  failFirst?: number;
  failStatus?: number;
  /** Answer after this long. */
  delayMs?: number;
}

/**
 * Accepts each Idempotency-Key once (a duplicate is answered 200 and not
 * counted, as a receiver that dedups does); `down` answers 503 to everything.
 */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Keys accepted, in order of acceptance, each once. */
  readonly accepted: string[] = [];
  readonly acceptedBodies = new Map<string, string>();
  duplicates = 0;
  down = false;
  private readonly tries = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: WebhookReceiverOptions = {}) {}

  async start(port = 0): Promise<this> {
    const server = createServer((request, response) => {
      void readBody(request).then((body) => {
        const key = String(request.headers['idempotency-key'] ?? '');
        const answer = (): void => {
          const tries = (this.tries.get(key) ?? 0) + 1;
          this.tries.set(key, tries);
          let status = 200;
          if (this.down) status = 503;
          else if (tries <= (this.options.failFirst ?? 0)) status = this.options.failStatus ?? 503;
          else if (this.acceptedBodies.has(key)) this.duplicates++;
          else { this.accepted.push(key); this.acceptedBodies.set(key, body); }
          this.deliveries.push({ key, body, status, at: Date.now() });
          response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'accepted' : 'try later');
        };
        if (this.options.delayMs) setTimeout(answer, this.options.delayMs);
        else answer();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    return this;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP server without TLS or auth; `refuse` lists recipients answered 550. */
export class MailReceiver {
  readonly messages: ReceivedMail[] = [];
  readonly refuse = new Set<string>();
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (!this.refuse.has(address.address)) return callback();
        const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
        callback(error);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          this.messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A message's text with quoted-printable soft breaks and escapes undone. */
export function decodeQuotedPrintable(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

// eventctl against a real HTTP server on 127.0.0.1:0 that records requests and
// serves canned JSON and a real SSE stream; the real bin/eventctl runs as a
// child process. Waits are on conditions with a deadline, never on sleeps.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from './helpers/node-test.js';
import { fileURLToPath } from 'node:url';
import type { EventRecord, Subscription } from '../services/eventd/types.js';

const eventctl = fileURLToPath(new URL('../../bin/eventctl', import.meta.url));
// A hang guard for one eventctl process (a loaded machine takes seconds to start node), not a speed claim.
const deadlineMs = 30_000;

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (request: Recorded, res: ServerResponse, req: IncomingMessage) => void;

/** A stand-in for eventd: routes by "METHOD /path", records every request. */
class FakeDaemon {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Handler>();
  private server: Server | undefined;
  url = '';

  route(key: string, handler: Handler): this {
    this.routes.set(key, handler);
    return this;
  }

  json(key: string, status: number, body: unknown): this {
    return this.route(key, (_request, res) => sendJson(res, status, body));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const recorded: Recorded = {
          method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        const handler = this.routes.get(`${recorded.method} ${recorded.path}`);
        if (handler) handler(recorded, res, req);
        else sendJson(res, 404, { error: { code: 'EVENTD_ERR_NOT_FOUND', message: `no route ${recorded.method} ${recorded.path}` } });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  requestsTo(key: string): Recorded[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === key);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A running eventctl whose output is collected as it comes. */
class Cli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
  }

  /** Polls until `condition` holds; fails with everything the CLI printed at the deadline. */
  async waitFor(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (!condition()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      if (this.exitCode !== undefined) assert.fail(`eventctl exited (${this.exitCode}) before ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const running = new Set<ChildProcess>();

function start(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Cli {
  const env = { ...process.env };
  delete env.EVENTD_API;
  delete env.EVENTD_TOKEN;
  const child = spawn(process.execPath, [eventctl, ...args], { env: { ...env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('close', () => running.delete(child));
  return new Cli(child);
}

async function run(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = start(args, options);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), deadlineMs);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

after(() => {
  for (const child of running) child.kill('SIGKILL');
});

const subscription: Subscription = {
  id: '5f2c9a0e1b7d4c3a',
  name: 'disk-full',
  class: 'FileSystem',
  expr: 'percentUsed > 90',
  rearm: 'percentUsed < 80',
  for: 3,
  scope: 'local',
  order: 'fifo',
  actions: [{ run: '/usr/local/bin/page-oncall', timeout: '10s', on: ['event'] }],
  node: 'n1',
  createdAt: '2025-01-02T03:04:05.000Z',
};

function event(seq: number): EventRecord {
  return {
    id: `n1:${seq}`, origin: 'n1', seq, hlc: `0000000000${seq}`, type: seq % 2 === 1 ? 'event' : 'rearm',
    subscription: subscription.id, subscriptionName: subscription.name, class: 'FileSystem', resource: '/dev/sda2', node: 'n1',
    expr: subscription.expr, attrs: { percentUsed: 90 + seq, mount: '/var lib' }, time: `2025-01-02T03:04:0${seq}.000Z`,
  };
}

function sseMessage(e: EventRecord): string {
  return `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`;
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(': keep-alive\n\n');
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('eventctl', () => {
  let daemon: FakeDaemon;
  let api: string;

  beforeEach(async () => {
    daemon = new FakeDaemon();
    api = await daemon.start();
  });

  afterEach(async () => {
    await daemon.stop();
  });

  describe('subscribe', () => {
    it('sends a numeric for, absolute run paths, a scope list and the action options, with the bearer token', async () => {
      daemon.json('POST /v1/subscriptions', 201, subscription);
      const cwd = mkdtempSync(join(tmpdir(), 'eventctl-'));
      try {
        const result = await run([
          '--api', api, 'subscribe', '--name', 'disk-full', '--class', 'FileSystem', '--expr', 'percentUsed > 90',
          '--rearm', 'percentUsed < 80', '--for', '3', '--where', '$resource = "/dev/sda2"', '--scope', 'n1,n2', '--order', 'agreed',
          '--run', 'scripts/page.sh', '--run', '/usr/bin/logger', '--timeout', '10s', '--on', 'event,rearm',
        ], { cwd, env: { EVENTD_TOKEN: 's3cret' } });
        assert.equal(result.code, 0, result.stderr);
        const [request] = daemon.requestsTo('POST /v1/subscriptions');
        assert.ok(request);
        assert.equal(request.headers['content-type'], 'application/json');
        assert.equal(request.headers.authorization, 'Bearer s3cret');
        assert.deepEqual(JSON.parse(request.body), {
          name: 'disk-full', class: 'FileSystem', expr: 'percentUsed > 90', rearm: 'percentUsed < 80', for: 3,
          where: '$resource = "/dev/sda2"', scope: ['n1', 'n2'], order: 'agreed',
          actions: [
            { run: join(cwd, 'scripts/page.sh'), timeout: '10s', on: ['event', 'rearm'] },
            { run: '/usr/bin/logger', timeout: '10s', on: ['event', 'rearm'] },
          ],
        });
        assert.match(result.stdout, /created subscription disk-full \(5f2c9a0e1b7d4c3a\)/);
        assert.match(result.stdout, /^expr: +percentUsed > 90$/m);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    it('sends "2 of 3" and durations as strings, a single keyword scope as a string, and leaves unset fields to the daemon', async () => {
      daemon.json('POST /v1/subscriptions', 201, subscription);
      for (const [forValue, scope] of [['2 of 3', 'cluster'], ['30s', 'local']] as const) {
        const result = await run(['--api', api, 'subscribe', '--name', 'n', '--class', 'C', '--expr', 'x > 1', '--for', forValue, '--scope', scope]);
        assert.equal(result.code, 0, result.stderr);
        const body: unknown = JSON.parse(daemon.requests.at(-1)?.body ?? '');
        assert.deepEqual(body, { name: 'n', class: 'C', expr: 'x > 1', for: forValue, scope, actions: [] });
      }
      const single = await run(['--api', api, 'subscribe', '--name', 'n', '--class', 'C', '--expr', 'x > 1', '--scope', 'n3']);
      assert.equal(single.code, 0, single.stderr);
      assert.deepEqual(JSON.parse(daemon.requests.at(-1)?.body ?? '').scope, ['n3']);
    });

    it('--preset fetches the ready-made condition and lets flags override its fields', async () => {
      daemon.json('GET /v1/presets/fs-space-high', 200, {
        name: 'fs-space-high', description: 'full', subscription: { name: 'fs-space-high', class: 'FileSystem', expr: 'percentUsed > 90', rearm: 'percentUsed < 75' },
      });
      daemon.json('POST /v1/subscriptions', 201, subscription);
      const result = await run(['--api', api, 'subscribe', '--preset', 'fs-space-high', '--name', 'root-full', '--where', '$resource = "/"', '--run', '/usr/bin/logger']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(daemon.requestsTo('POST /v1/subscriptions')[0]?.body ?? ''), {
        name: 'root-full', class: 'FileSystem', expr: 'percentUsed > 90', rearm: 'percentUsed < 75', where: '$resource = "/"',
        actions: [{ run: '/usr/bin/logger' }],
      });
      // A new --expr without --rearm drops the preset's rearm: the old pair's rearm could hold beside the new threshold.
      const own = await run(['--api', api, 'subscribe', '--preset', 'fs-space-high', '--expr', 'percentUsed > 1']);
      assert.equal(own.code, 0, own.stderr);
      assert.deepEqual(JSON.parse(daemon.requestsTo('POST /v1/subscriptions')[1]?.body ?? ''), { name: 'fs-space-high', class: 'FileSystem', expr: 'percentUsed > 1', actions: [] });
      const unknown = await run(['--api', api, 'subscribe', '--preset', 'nope']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /EVENTD_ERR_NOT_FOUND/);
      const missing = await run(['--api', api, 'subscribe', '--name', 'x', '--class', 'C']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /missing --expr/);
    });

    it('prints the created subscription as JSON with --json', async () => {
      daemon.json('POST /v1/subscriptions', 201, subscription);
      const result = await run(['--api', api, '--json', 'subscribe', '--name', 'disk-full', '--class', 'FileSystem', '--expr', 'percentUsed > 90']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), subscription);
    });

    it('reports a server error as "eventctl: <message> (<code>)" and exits 1', async () => {
      daemon.json('POST /v1/subscriptions', 400, {
        error: { code: 'EVENTD_ERR_BAD_EXPRESSION', message: 'expr: unexpected token ">" at position 12', details: { position: 12 } },
      });
      const result = await run(['--api', api, 'subscribe', '--name', 'bad', '--class', 'FileSystem', '--expr', 'percentUsed >> 9']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, 'eventctl: expr: unexpected token ">" at position 12 (EVENTD_ERR_BAD_EXPRESSION)\n');
    });

    it('exits 2 on a usage error without calling the daemon', async () => {
      const missing = await run(['--api', api, 'subscribe', '--name', 'x', '--class', 'C']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--expr/);
      const badOn = await run(['--api', api, 'subscribe', '--name', 'x', '--class', 'C', '--expr', 'a', '--run', '/bin/true', '--on', 'sometimes']);
      assert.equal(badOn.code, 2);
      const timeoutWithoutRun = await run(['--api', api, 'subscribe', '--name', 'x', '--class', 'C', '--expr', 'a', '--timeout', '5s']);
      assert.equal(timeoutWithoutRun.code, 2);
      assert.deepEqual(daemon.requests, []);
    });
  });

  describe('requests and output', () => {
    it('lists subscriptions as an aligned table, and as the API JSON with --json', async () => {
      const second: Subscription = { ...subscription, id: 'aa', name: 'ip-gone', class: 'IPAddress', expr: 'up = false', scope: ['n1', 'n2'], actions: [] };
      delete second.rearm;
      delete second.for;
      const body = { subscriptions: [subscription, second] };
      daemon.json('GET /v1/subscriptions', 200, body);
      const human = await run(['--api', api, 'subscriptions']);
      assert.equal(human.code, 0, human.stderr);
      const lines = human.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0] ?? '', /^ID +NAME +STATUS +CLASS +EXPR +REARM +FOR +SCOPE +ACTIONS +RESPONSES$/);
      for (const column of ['NAME', 'CLASS', 'EXPR', 'SCOPE']) {
        const at = lines[0]?.indexOf(column) ?? -1;
        assert.ok(lines.slice(1).every((line) => line[at - 1] === ' ' && line[at] !== ' '), `column ${column} aligned:\n${human.stdout}`);
      }
      assert.match(lines[2] ?? '', /ip-gone +- +IPAddress +up = false +- +- +n1,n2 +- +-$/);
      const json = await run(['--api', api, '--json', 'subscriptions']);
      assert.deepEqual(JSON.parse(json.stdout), body);
    });

    it('sends event filters as query parameters and prints attributes compactly', async () => {
      daemon.json('GET /v1/events', 200, { events: [event(1), event(2)] });
      const result = await run(['--api', api, 'events', '--since', 'n1:0', '--class', 'FileSystem', '--subscription', 'disk-full', '--limit', '5']);
      assert.equal(result.code, 0, result.stderr);
      const request = daemon.requestsTo('GET /v1/events')[0];
      assert.deepEqual(Object.fromEntries(request?.query ?? []), { since: 'n1:0', class: 'FileSystem', subscription: 'disk-full', limit: '5' });
      assert.match(result.stdout, /^ID +POSITION +TIME +TYPE +SUBSCRIPTION +CLASS +NODE +RESOURCE +ATTRS$/m);
      assert.match(result.stdout, /^n1:2 +- +2025-01-02T03:04:02.000Z +rearm +disk-full +FileSystem +n1 +\/dev\/sda2 +percentUsed=92 mount="\/var lib"$/m);
    });

    it('deletes a subscription by name, encoding it into the path', async () => {
      daemon.route('DELETE /v1/subscriptions/disk%20full', (_request, res) => sendJson(res, 200, { deleted: subscription }));
      const result = await run(['--api', api, 'unsubscribe', 'disk full']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'deleted subscription disk-full (5f2c9a0e1b7d4c3a)\n');
      const missing = await run(['--api', api, 'unsubscribe', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^eventctl: .+ \(EVENTD_ERR_NOT_FOUND\)\n$/);
    });

    it('shows classes, resources, actions and status', async () => {
      daemon
        .json('GET /v1/classes', 200, { classes: [{ class: 'FileSystem', periodMs: 10_000, awake: true, attributes: { percentUsed: { type: 'number', unit: '%' }, mount: { type: 'string' } } }] })
        .json('GET /v1/resources', 200, { resources: [{ class: 'FileSystem', resource: '/dev/sda2', node: 'n1', time: '2025-01-02T03:04:05.000Z', attrs: { percentUsed: 93 } }] })
        .json('GET /v1/actions', 200, { actions: [{
          id: 7, eventId: 'n1:1', subscription: subscription.id, actionIndex: 0, spec: { run: '/usr/local/bin/page-oncall', timeout: '10s', on: ['event'] },
          status: 'failed', attempt: 2, exitCode: 3, signal: null, error: null, stdout: '', stderr: 'boom',
          createdAt: '2025-01-02T03:04:05.000Z', startedAt: '2025-01-02T03:04:05.000Z', endedAt: '2025-01-02T03:04:06.500Z',
        }] })
        .json('GET /v1/status', 200, { node: 'n1', version: '0.1.0', uptimeS: 3725, subscriptions: 2, producersAwake: ['FileSystem', 'Node'], events: { count: 12, lastId: 'n1:12' }, actions: { pending: 1, running: 0 } });

      const classes = await run(['--api', api, 'classes']);
      assert.match(classes.stdout, /^FileSystem +10s +yes +percentUsed:number\(%\) mount:string$/m);
      const resources = await run(['--api', api, 'resources', 'FileSystem']);
      assert.equal(daemon.requestsTo('GET /v1/resources')[0]?.query.get('class'), 'FileSystem');
      assert.match(resources.stdout, /^n1 +\/dev\/sda2 +2025-01-02T03:04:05.000Z +percentUsed=93$/m);
      const actions = await run(['--api', api, 'actions', '--subscription', 'disk-full', '--event', 'n1:1', '--limit', '3']);
      assert.deepEqual(Object.fromEntries(daemon.requestsTo('GET /v1/actions')[0]?.query ?? []), { subscription: 'disk-full', event: 'n1:1', limit: '3' });
      assert.match(actions.stdout, /^ID +EVENT +STATUS +RESULT +ATTEMPT +ACTION +RESPONSE +STARTED +DURATION +WHY$/m);
      assert.match(actions.stdout, /^7 +n1:1 +failed +exit 3 +2 +\/usr\/local\/bin\/page-oncall +- +2025-01-02T03:04:05.000Z +1.5s +-$/m);
      const status = await run(['--api', api, 'status']);
      assert.match(status.stdout, /^node: +n1$/m);
      assert.match(status.stdout, /^uptime: +1h02m \(3725s\)$/m);
      assert.match(status.stdout, /^producers awake: +FileSystem, Node$/m);
      assert.match(status.stdout, /^last event: +n1:12$/m);
      for (const result of [classes, resources, actions, status]) assert.equal(result.code, 0, result.stderr);
    });

    it('takes the API address from EVENTD_API', async () => {
      daemon.json('GET /v1/status', 200, { node: 'n9', version: '0.1.0', uptimeS: 1, subscriptions: 0, producersAwake: [], events: { count: 0, lastId: null }, actions: { pending: 0, running: 0 } });
      const result = await run(['--json', 'status'], { env: { EVENTD_API: api } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).node, 'n9');
    });

    it('reports an unreachable daemon and exits 1', async () => {
      const url = await closedPort();
      const result = await run(['--api', url, 'status']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^eventctl: cannot reach eventd at ${url}: .*ECONNREFUSED.*\\n$`));
    });

    it('reports an error answer that is not JSON with its status', async () => {
      daemon.route('GET /v1/status', (_request, res) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('upstream down');
      });
      const result = await run(['--api', api, 'status']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^eventctl: eventd answered 502 Bad Gateway: upstream down \(HTTP_502\)\n$/);
    });
  });

  describe('events --follow', () => {
    it('prints events as they arrive, reconnects with Last-Event-ID after a drop, and prints the next event exactly once', async () => {
      const log = [event(1), event(2), event(3)];
      const streams: Recorded[] = [];
      daemon.route('GET /v1/events/stream', (request, res) => {
        streams.push(request);
        openSse(res);
        if (streams.length === 1) {
          // Two whole events, then half of the third, then the connection drops.
          res.write(sseMessage(log[0] as EventRecord) + sseMessage(log[1] as EventRecord));
          const partial = sseMessage(log[2] as EventRecord).slice(0, 40);
          res.write(partial, () => res.socket?.destroy());
          return;
        }
        // Like eventd: exactly the events after Last-Event-ID, then stay open.
        const after = log.findIndex((e) => e.id === request.headers['last-event-id']);
        for (const e of log.slice(after + 1)) res.write(sseMessage(e));
      });

      const cli = start(['--api', api, 'events', '--follow', '--from-start', '--class', 'FileSystem']);
      await cli.waitFor('the first two events', () => cli.stdout.includes('n1:2  '));
      await cli.waitFor('a second connection', () => streams.length >= 2);
      await cli.waitFor('the third event', () => cli.stdout.includes('n1:3  '));

      assert.equal(streams[0]?.query.get('class'), 'FileSystem');
      assert.equal(streams[0]?.headers['last-event-id'], undefined);
      assert.equal(streams[0]?.headers.accept, 'text/event-stream');
      assert.equal(streams[1]?.headers['last-event-id'], 'n1:2');
      assert.equal(streams[1]?.query.get('class'), 'FileSystem');
      const lines = cli.stdout.trimEnd().split('\n');
      assert.deepEqual(lines.map((line) => line.split('  ')[0]), ['n1:1', 'n1:2', 'n1:3']);
      assert.equal(count(cli.stdout, 'n1:3  '), 1);
      assert.match(lines[0] ?? '', /^n1:1 {2}- {2}2025-01-02T03:04:01.000Z {2}event {2}disk-full {2}FileSystem {2}n1 {2}\/dev\/sda2 {2}percentUsed=91 mount="\/var lib"$/);

      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0, cli.stderr);
      assert.equal(streams.length, 2);
    });

    it('with --json and --since prints one JSON event per line and resumes from --since after a stream that ends', async () => {
      const log = [event(1), event(2), event(3), event(4)];
      const streams: Recorded[] = [];
      daemon.route('GET /v1/events/stream', (request, res) => {
        streams.push(request);
        openSse(res);
        if (streams.length === 1) return void res.end(); // a clean end before any event
        const after = log.findIndex((e) => e.id === request.headers['last-event-id']);
        for (const e of log.slice(after + 1)) res.write(sseMessage(e));
      });

      const cli = start(['--api', api, '--json', 'events', '--follow', '--since', 'n1:2', '--subscription', 'disk-full']);
      await cli.waitFor('two JSON lines', () => cli.stdout.split('\n').length > 2);
      assert.equal(streams[0]?.headers['last-event-id'], 'n1:2');
      assert.equal(streams[1]?.headers['last-event-id'], 'n1:2');
      assert.equal(streams[0]?.query.get('subscription'), 'disk-full');
      assert.equal(streams[0]?.query.has('since'), false);
      const printed = cli.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as EventRecord);
      assert.deepEqual(printed, [log[2], log[3]]);

      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0, cli.stderr);
    });

    it('stops with exit 1 when the daemon rejects the stream', async () => {
      daemon.json('GET /v1/events/stream', 404, { error: { code: 'EVENTD_ERR_EVENT_NOT_FOUND', message: 'since: no event with id "n1:99"' } });
      const result = await run(['--api', api, 'events', '--follow', '--since', 'n1:99']);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, 'eventctl: since: no event with id "n1:99" (EVENTD_ERR_EVENT_NOT_FOUND)\n');
    });

    it('exits 1 when no daemon answers the first connection', async () => {
      const url = await closedPort();
      const result = await run(['--api', url, 'events', '--follow']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^eventctl: cannot reach eventd at /);
    });
  });
});

/** The URL of a port nothing listens on (it was just released). */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('eventctl producers check', () => {
  it('passes a good plugin, and names what is wrong with a bad one, exiting 1', async () => {
    const good = await run(['producers', 'check', join(fileURLToPath(new URL('../../examples/producers/temperature', import.meta.url))), '--sys-root', fileURLToPath(new URL('../../test/fixtures/sys-thermal', import.meta.url))]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /samples: 2 ok, 0 bad/);
    assert.match(good.stdout, /^PASS$/m);

    const dir = mkdtempSync(join(tmpdir(), 'eventctl-plugin-'));
    try {
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ class: 'Bad', periodMs: 1000, exec: 'run.sh', attributes: { n: { type: 'number' } } }));
      writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho \'{"resource":"a","attrs":{"n":"x"}}\'\necho hello\n');
      const notExecutable = await run(['producers', 'check', dir]);
      assert.equal(notExecutable.code, 1);
      assert.match(notExecutable.stdout, /run\.sh is not executable/);
      chmodSync(join(dir, 'run.sh'), 0o755);
      const bad = await run(['producers', 'check', dir]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /BAD {2}attrs\.n: must be a finite number/);
      assert.match(bad.stdout, /BAD {2}not JSON: "hello"/);
      assert.match(bad.stdout, /^FAIL$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

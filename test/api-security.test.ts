// The local API against local users (issue 10, finding 2): with the defaults,
// any local user could POST a subscription whose action ran as root. Now the
// unix socket is 0660 (owner and api.socketGroup), TCP needs a token even on
// loopback, the Host header must name the listener, and every write records
// who made it.
import assert from 'node:assert/strict';
import { defer, type Hooks } from './helpers/cleanup.js';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { nobody, runAs } from './helpers/run-as.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const eventctl = fileURLToPath(new URL('../../bin/eventctl', import.meta.url));

/** A folder a uid other than root can reach (mkdtemp makes 0700 ones). */
function sharedDir(t: { after: (fn: () => void) => void }): string {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  return dir;
}

async function daemonIn(t: Hooks, dir: string, extra: Record<string, unknown> = {}): Promise<DaemonProcess> {
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' }, ...extra,
  });
  defer(t, () => daemon.stop());
  await daemon.start();
  return daemon;
}

function port(daemon: DaemonProcess): number {
  return Number(new URL(daemon.url).port);
}

/** A raw HTTP request with exactly these headers (fetch will not send a foreign Host). */
function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers, timeout: 5000 }, (incoming) => {
      let text = '';
      incoming.on('data', (chunk: Buffer) => (text += chunk.toString()));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const runsAsRoot = (marker: string) => ({
  name: 'pwn', class: 'PagingSpace', expr: 'percentUsed > 1', actions: [{ run: '/bin/sh', args: ['-c', `id > ${marker}`] }],
});

test('an unprivileged user cannot make the daemon run anything: no token on loopback TCP is a 401, and nothing is created', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir);
  const marker = join(dir, 'pwned');
  const posted = await runAs(nobody, 'curl', ['-sS', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify(runsAsRoot(marker)), `${daemon.url}/v1/subscriptions`]);
  const [answer, status] = posted.stdout.split('\n');
  assert.equal(status, '401', posted.stdout + posted.stderr);
  assert.match(answer ?? '', /EVENTD_ERR_UNAUTHORIZED/);
  const { body } = await daemon.request<{ subscriptions: unknown[] }>('GET', '/v1/subscriptions');
  assert.deepEqual(body.subscriptions, []);
  assert.equal(existsSync(marker), false);
  // Reads need the token too; only the liveness probe is open.
  assert.equal((await rawRequest(`${daemon.url}/v1/events`, 'GET', { host: `127.0.0.1:${port(daemon)}` })).status, 401);
  assert.equal((await rawRequest(`${daemon.url}/healthz`, 'GET', { host: `127.0.0.1:${port(daemon)}` })).status, 200);
  // The refused write is in the audit, as anonymous.
  const audit = await daemon.request<{ entries: { who: string; method: string; path: string; status: number }[] }>('GET', '/v1/audit');
  assert.deepEqual(audit.body.entries.map(({ who, method, path, status }) => ({ who, method, path, status })), [{ who: 'anonymous', method: 'POST', path: '/v1/subscriptions', status: 401 }]);
});

test('the token is generated at first start into <dataDir>/api-token, mode 0600, and kept across restarts', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir);
  const file = join(dir, 'data', 'api-token');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const token = readFileSync(file, 'utf8').trim();
  assert.ok(token.length >= 32);
  const host = { host: `127.0.0.1:${port(daemon)}` };
  assert.equal((await rawRequest(`${daemon.url}/v1/status`, 'GET', { ...host, authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await rawRequest(`${daemon.url}/v1/status`, 'GET', { ...host, authorization: `Bearer ${token}x` })).status, 401);
  await daemon.stop();
  await daemon.start();
  assert.equal(readFileSync(file, 'utf8').trim(), token);
  assert.equal((await rawRequest(`${daemon.url}/v1/status`, 'GET', { host: `127.0.0.1:${port(daemon)}`, authorization: `Bearer ${token}` })).status, 200);
});

test('a Host header that does not name the listener is refused, token or not (DNS rebinding)', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir);
  const token = readFileSync(join(dir, 'data', 'api-token'), 'utf8').trim();
  const p = port(daemon);
  for (const host of ['evil.example', `evil.example:${p}`, `127.0.0.1:${p + 1}`]) {
    for (const path of ['/healthz', '/v1/subscriptions']) {
      const answer = await rawRequest(`${daemon.url}${path}`, 'GET', { host, authorization: `Bearer ${token}` });
      assert.equal(answer.status, 403, `${host} ${path}`);
      assert.match(answer.body, /EVENTD_ERR_FORBIDDEN_HOST/);
    }
  }
  for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`]) {
    assert.equal((await rawRequest(`${daemon.url}/v1/status`, 'GET', { host, authorization: `Bearer ${token}` })).status, 200, host);
  }
});

test('the unix socket is 0660: a user outside its group cannot connect, and nothing is created', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir);
  const socket = join(dir, 'data', 'api.sock');
  const mode = statSync(socket);
  assert.ok(mode.isSocket());
  assert.equal(mode.mode & 0o777, 0o660);
  const marker = join(dir, 'pwned');
  const posted = await runAs(nobody, 'curl', ['-sS', '--unix-socket', socket, '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify(runsAsRoot(marker)), 'http://localhost/v1/subscriptions']);
  assert.equal(posted.status, 7, `curl should fail to connect: ${posted.stdout} ${posted.stderr}`);
  assert.match(posted.stderr, /Permission denied|Couldn't connect/i);
  assert.deepEqual((await daemon.request<{ subscriptions: unknown[] }>('GET', '/v1/subscriptions')).body.subscriptions, []);
});

test('a member of api.socketGroup is recorded by uid: createdBy and the audit say who made each write', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir, { api: { port: 0, socketGroup: 'nogroup' } });
  const socket = join(dir, 'data', 'api.sock');
  assert.equal(statSync(socket).gid, nobody);
  const body = { name: 'by-nobody', class: 'PagingSpace', expr: 'percentUsed > 90' };
  const posted = await runAs(nobody, 'curl', ['-sS', '--unix-socket', socket, '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify(body), 'http://localhost/v1/subscriptions']);
  assert.equal(posted.status, 0, posted.stderr);
  const created = JSON.parse(posted.stdout) as { id: string; createdBy: string };
  assert.equal(created.createdBy, `uid:${nobody}`);
  const byToken = await daemon.request<{ id: string; createdBy: string }>('POST', '/v1/subscriptions', { ...body, name: 'by-token' });
  assert.equal(byToken.status, 201);
  assert.equal(byToken.body.createdBy, 'token:api-token');
  const deleted = await daemon.request('DELETE', '/v1/subscriptions/by-token');
  assert.equal(deleted.status, 200);
  // Kept with the subscription: listed, and after a restart.
  await daemon.stop();
  await daemon.start();
  const one = await daemon.request<{ createdBy: string }>('GET', '/v1/subscriptions/by-nobody');
  assert.equal(one.body.createdBy, `uid:${nobody}`);
  const audit = await daemon.request<{ entries: { who: string; via: string; method: string; path: string; status: number; subject: string | null; time: string }[] }>('GET', '/v1/audit');
  assert.deepEqual(audit.body.entries.map(({ who, via, method, path, status, subject }) => ({ who, via, method, path, status, subject })), [
    { who: 'token:api-token', via: 'tcp', method: 'DELETE', path: '/v1/subscriptions/by-token', status: 200, subject: 'by-token' },
    { who: 'token:api-token', via: 'tcp', method: 'POST', path: '/v1/subscriptions', status: 201, subject: byToken.body.id },
    { who: `uid:${nobody}`, via: 'socket', method: 'POST', path: '/v1/subscriptions', status: 201, subject: created.id },
  ]);
  assert.ok(audit.body.entries.every((entry) => Number.isFinite(Date.parse(entry.time))));
  const mine = await daemon.request<{ entries: unknown[] }>('GET', `/v1/audit?who=uid:${nobody}`);
  assert.equal(mine.body.entries.length, 1);
});

test('eventctl finds the socket or the token file on its own: root and the socket group, with the README commands as they are', async (t) => {
  const dir = sharedDir(t);
  const daemon = await daemonIn(t, dir, { api: { port: 0, socketGroup: 'nogroup' } });
  const dataDir = join(dir, 'data');
  const env = { ...process.env, EVENTD_API: undefined, EVENTD_TOKEN: undefined, EVENTD_SOCKET: undefined, EVENTD_DATA_DIR: undefined };
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
  const subscribe = ['subscribe', '--name', 'swap', '--class', 'PagingSpace', '--expr', 'percentUsed > 90'];

  // A member of the socket's group, naming the data folder.
  const member = await runAs(nobody, process.execPath, [eventctl, '--data-dir', dataDir, '--json', ...subscribe], { env: clean, cwd: dir });
  assert.equal(member.status, 0, member.stderr);
  assert.equal((JSON.parse(member.stdout) as { createdBy: string }).createdBy, `uid:${nobody}`);
  // Root with --api only (the port of this daemon): the token comes from the data folder the daemon advertised.
  const root = await runAs(0, process.execPath, [eventctl, '--api', daemon.url, '--json', 'subscriptions'], { env: clean });
  assert.equal(root.status, 0, root.stderr);
  assert.deepEqual((JSON.parse(root.stdout) as { subscriptions: { name: string }[] }).subscriptions.map((s) => s.name), ['swap']);
  // Root with nothing at all, from a folder holding the default ./.eventd: the socket.
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  symlinkSync(dataDir, join(cwd, '.eventd'));
  const plain = await runAs(0, process.execPath, [eventctl, '--json', 'subscriptions'], { env: clean, cwd });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal((JSON.parse(plain.stdout) as { subscriptions: unknown[] }).subscriptions.length, 1);
  // The member over TCP cannot read the token file: a clear refusal, exit 1.
  const denied = await runAs(nobody, process.execPath, [eventctl, '--api', daemon.url, 'subscriptions'], { env: clean });
  assert.equal(denied.status, 1);
  assert.match(denied.stderr, /EVENTD_ERR_UNAUTHORIZED/);
});

test('actions run as actions.user', async (t) => {
  const dir = sharedDir(t);
  const out = join(dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
  const daemon = await daemonIn(t, dir, { actions: { user: 'nobody' } });
  const created = await daemon.request('POST', '/v1/subscriptions', {
    name: 'who', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', actions: [{ run: '/bin/sh', args: ['-c', `id -u > ${out}/uid; id -G > ${out}/groups`] }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  setSwap(join(dir, 'proc'), 80);
  const uid = await waitFor('the action to run', () => existsSync(join(out, 'groups')) && readFileSync(join(out, 'groups'), 'utf8').trim() !== '' && readFileSync(join(out, 'uid'), 'utf8').trim());
  assert.equal(uid, String(nobody));
  // root's supplementary groups are dropped, only the user's own group remains.
  assert.equal(readFileSync(join(out, 'groups'), 'utf8').trim(), String(nobody));
});

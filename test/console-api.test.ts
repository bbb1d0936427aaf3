// The console's daemon side (issue 15): sessions, the /ui files, the sample
// history, the stream's tail, and a graceful stop with a console connected.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { authHeader } from './helpers/api-token.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ConsoleSessions, cookieValue, sessionCookie } from '../services/eventd/api/ui-session.js';
import { packageRoot } from '../services/eventd/paths.js';
import { SampleHistory } from '../services/eventd/sample-history.js';
import { apiUnderTest } from './helpers/api-context.js';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const token = 'a-token-of-sixteen-chars-or-more';

function sessionFrom(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  assert.ok(header, 'a Set-Cookie header');
  assert.match(header, /; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  const value = cookieValue(header.split(';')[0], sessionCookie);
  assert.ok(value);
  return `${sessionCookie}=${value}`;
}

for (const mode of ['with api.token', 'without a token'] as const) {
  test(`console sessions ${mode}: the console's API needs a session; a login code makes one, once`, async (t) => {
    const dir = tempDir(t);
    const api = await apiUnderTest(dir, mode === 'with api.token' ? { api: { token } } : {});
    defer(t, api.close);
    const bearer = mode === 'with api.token' ? { authorization: `Bearer ${token}` } : {};

    // The page loads without a session (it holds no data); its API calls do not.
    const page = await api.app.inject({ url: '/ui/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/, 'nothing loads from elsewhere');
    assert.doesNotMatch(page.body, /PagingSpace|subscription/i, 'the page itself holds no data');
    assert.equal((await api.app.inject({ url: '/ui/session' })).json().authenticated, false);
    const refused = await api.app.inject({ url: '/ui/v1/subscriptions' });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().error.code, 'EVENTD_ERR_UNAUTHORIZED');
    if (mode === 'with api.token') assert.equal((await api.app.inject({ method: 'POST', url: '/v1/ui/login-codes' })).statusCode, 401, 'minting a code needs the token');

    const minted = await api.app.inject({ method: 'POST', url: '/v1/ui/login-codes', headers: bearer });
    assert.equal(minted.statusCode, 201);
    const { code, path } = minted.json<{ code: string; path: string }>();
    assert.equal(path, `/ui/login?code=${code}`);
    const login = await api.app.inject({ url: path });
    assert.equal(login.statusCode, 303);
    assert.equal(login.headers.location, '/ui/');
    const cookie = sessionFrom(login.headers['set-cookie']);
    const used = await api.app.inject({ url: path });
    assert.equal(used.headers.location, '/ui/?login=expired');
    assert.equal(used.headers['set-cookie'], undefined, 'a code signs in once');

    assert.equal((await api.app.inject({ url: '/ui/session', headers: { cookie } })).json().authenticated, true);
    const listed = await api.app.inject({ url: '/ui/v1/subscriptions', headers: { cookie } });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json(), { subscriptions: [] });
    // The cookie is the console's: the API itself still asks for the token.
    if (mode === 'with api.token') assert.equal((await api.app.inject({ url: '/v1/subscriptions', headers: { cookie } })).statusCode, 401);
    const tampered = cookie.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
    assert.equal((await api.app.inject({ url: '/ui/v1/subscriptions', headers: { cookie: tampered } })).statusCode, 401);

    // The prompt: the token (where there is one) or a fresh code; anything else is refused at the field.
    const wrong = await api.app.inject({ method: 'POST', url: '/ui/login', payload: { secret: 'not-it' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.details.field, 'secret');
    if (mode === 'with api.token') {
      const typed = await api.app.inject({ method: 'POST', url: '/ui/login', payload: { secret: token } });
      assert.equal(typed.statusCode, 204);
      sessionFrom(typed.headers['set-cookie']);
    }
    const fresh = (await api.app.inject({ method: 'POST', url: '/v1/ui/login-codes', headers: bearer })).json<{ code: string }>().code;
    assert.equal((await api.app.inject({ method: 'POST', url: '/ui/login', payload: { secret: fresh } })).statusCode, 204);
  });
}

test('console sessions: survive a restart (same data folder), end when the token changes or they expire, codes expire', () => {
  let now = 1_000_000;
  const dir = tempDirSync();
  const first = new ConsoleSessions({ dataDir: dir.path, token, now: () => now });
  const session = first.issue();
  assert.equal(first.valid(session), true);
  assert.equal(statSync(join(dir.path, 'console-secret')).mode & 0o777, 0o600, 'the secret is its owner\'s only');
  assert.equal(new ConsoleSessions({ dataDir: dir.path, token, now: () => now }).valid(session), true, 'a restarted daemon knows its sessions');
  assert.equal(new ConsoleSessions({ dataDir: dir.path, token: `${token}-rotated`, now: () => now }).valid(session), false, 'a new token ends them');
  assert.equal(new ConsoleSessions({ dataDir: tempDirSync().path, token, now: () => now }).valid(session), false, 'another data folder does not know them');
  const { code } = first.mintLoginCode();
  now += 10 * 60_000 + 1;
  assert.equal(first.redeem(code), false, 'a code lives 10 minutes');
  assert.equal(first.valid(session), true);
  now += 24 * 3_600_000;
  assert.equal(first.valid(session), false, 'a session lives a day');
  assert.equal(first.valid('garbage'), false);
  assert.equal(first.valid(undefined), false);
  dir.remove();
});

test('sample history: bounded per resource, oldest first; served per class and resource (a resource name with slashes too)', async (t) => {
  const history = new SampleHistory(3);
  for (let time = 1; time <= 5; time++) {
    history.add([
      { class: 'PagingSpace', node: 'n1', resource: '/dev/sda2', time, attrs: { percentUsed: time } },
      { class: 'PagingSpace', node: 'n1', resource: 'total', time, attrs: { percentUsed: 10 * time } },
    ]);
  }
  assert.deepEqual(history.list('PagingSpace', 'n1', '/dev/sda2').map((point) => point.time), [3, 4, 5]);
  assert.deepEqual(history.list('PagingSpace', 'n1', 'total').map((point) => point.attrs['percentUsed']), [30, 40, 50]);
  assert.deepEqual(history.list('PagingSpace', 'n2', 'total'), []);
  assert.throws(() => new SampleHistory(0), RangeError);

  const dir = tempDir(t);
  const api = await apiUnderTest(dir);
  defer(t, api.close);
  api.context.history.add([{ class: 'PagingSpace', node: 'n1', resource: '/dev/sda2', time: Date.parse('2026-01-01T00:00:00Z'), attrs: { percentUsed: 42 } }]);
  const answer = await api.app.inject({ url: `/v1/resources/PagingSpace/${encodeURIComponent('/dev/sda2')}/history` });
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(answer.json(), { class: 'PagingSpace', node: 'n1', resource: '/dev/sda2', samples: [{ time: '2026-01-01T00:00:00.000Z', attrs: { percentUsed: 42 } }] });
  const unknown = await api.app.inject({ url: '/v1/resources/Nope/x/history' });
  assert.equal(unknown.statusCode, 422);
  assert.equal(unknown.json().error.code, 'EVENTD_ERR_UNKNOWN_CLASS');
});

test('a daemon with a console connected: history fills from its producer, the stream starts at the tail, and SIGTERM still stops it', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } } });
  await daemon.start();
  const abort = new AbortController();
  try {
    await daemon.request('POST', '/v1/subscriptions', { name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 80', where: '$resource = "total"' });
    for (const percent of [90, 40, 90]) {
      setSwap(procRoot, percent);
      await waitFor(`swap at ${percent}%`, async () => {
        const { body } = await daemon.request<{ samples: { attrs: { percentUsed: number } }[] }>('GET', '/v1/resources/PagingSpace/total/history');
        return body.samples.at(-1)?.attrs.percentUsed === percent;
      });
    }
    await waitFor('three events', async () => (await daemon.request<{ events: unknown[] }>('GET', '/v1/events')).body.events.length === 3);
    const { body } = await daemon.request<{ samples: { time: string }[] }>('GET', '/v1/resources/PagingSpace/total/history');
    const times = body.samples.map((sample) => Date.parse(sample.time));
    assert.ok(times.length >= 3);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');

    // ?tail=1: the last event only, then live ones.
    const stream = await fetch(`${daemon.url}/v1/events/stream?tail=1`, { headers: authHeader(daemon.configFile), signal: abort.signal });
    const reader = stream.body!.getReader();
    let text = '';
    await waitFor('the tail event', async () => {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
      return /^id: n1:3$/m.test(text);
    });
    assert.doesNotMatch(text, /^id: n1:[12]$/m);

    // With the stream still open: a graceful stop ends it rather than waiting on it.
    const stopped = daemon.stop();
    await waitFor('eventd to stop with a stream open', async () => (await Promise.race([stopped.then(() => true), new Promise((resolve) => setTimeout(resolve, 100, false))])) as boolean, 15_000);
  } finally {
    abort.abort();
    await daemon.kill9();
  }
});

/** For the sync test: removed at its end (nothing runs in it). */
function tempDirSync(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'eventd-console-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

test('eventctl ui: the token from EVENTD_TOKEN or the data folder\'s api-token file; --open hands the link to $BROWSER', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir, api: { port: 0, token } });
  await daemon.start();
  try {
    const ctl = (args: string[], env: Record<string, string>) =>
      promisify(execFile)(process.execPath, [join(packageRoot, 'bin', 'eventctl'), '--api', daemon.url, 'ui', ...args], { env: { ...process.env, EVENTD_TOKEN: '', ...env }, timeout: 20_000 });
    await assert.rejects(ctl(['--data-dir', join(dir, 'nowhere')], {}), (error: { code?: number; stderr?: string }) => error.code === 1 && /bearer token/.test(error.stderr ?? ''));
    const viaEnv = (await ctl([], { EVENTD_TOKEN: token })).stdout;
    assert.match(viaEnv, new RegExp(`^${daemon.url}/ui/login\\?code=[\\w-]+\\n$`));
    // The file the daemon-hardening work generates when api.token is unset; here written by hand with the configured token.
    writeFileSync(join(dataDir, 'api-token'), `${token}\n`, { mode: 0o600 });
    const opened = join(dir, 'opened');
    const browser = join(dir, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > ${opened}\n`, { mode: 0o755 });
    const viaFile = (await ctl(['--data-dir', dataDir, '--open'], { BROWSER: browser })).stdout.trim();
    assert.match(viaFile, /\/ui\/login\?code=/);
    assert.notEqual(viaFile, viaEnv.trim(), 'a fresh code each time');
    assert.equal(await waitFor('the browser to be handed the link', () => existsSync(opened) && readFileSync(opened, 'utf8')), viaFile);
    const login = await fetch(viaFile, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.match(login.headers.get('set-cookie') ?? '', /^eventd_console=/);
  } finally {
    await daemon.stop();
  }
});

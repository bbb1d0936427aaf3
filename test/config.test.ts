import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { test } from './helpers/node-test.js';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildConfig } from '../services/eventd/config.js';
import { loadConfig } from '../services/eventd/config-load.js';
import { packageRoot } from '../services/eventd/paths.js';
import { tempDir } from './helpers/tmp.js';

const badConfig = (raw: unknown, pattern: RegExp) =>
  assert.throws(() => buildConfig(raw), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
    assert.match(error.message ?? '', pattern);
    return true;
  });

test('no config: hostname, 127.0.0.1:7070, ./.eventd', () => {
  const config = buildConfig(undefined, {}, '/srv');
  assert.equal(config.node, hostname());
  assert.equal(config.api.host, '127.0.0.1');
  assert.equal(config.api.port, 7070);
  assert.equal(config.dataDir, resolve('/srv', '.eventd'));
  assert.equal(config.procRoot, '/proc');
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.api));
});

test('unknown keys are rejected with the key named, at any depth', () => {
  badConfig({ nodes: 'x' }, /nodes: unknown key/);
  badConfig({ api: { prot: 1 } }, /api\.prot: unknown key/);
  badConfig({ plugins: { dir: ['x'] } }, /plugins\.dir: unknown key/);
});

test('wrong types and values name the key', () => {
  badConfig({ api: { port: 'seventy' } }, /api\.port: must be integer/);
  badConfig({ producers: { PagingSpace: { periodMs: 1 } } }, /producers\.PagingSpace\.periodMs/);
  badConfig({ producers: { pagingSpace: {} } }, /producers\.pagingSpace: not a valid name/);
  badConfig({ log: { level: 'loud' } }, /log\.level: must be one of/);
});

test('a non-loopback API address needs a token', () => {
  badConfig({ api: { host: '0.0.0.0' } }, /api\.token: required/);
  assert.equal(buildConfig({ api: { host: '0.0.0.0', token: 'x'.repeat(16) } }).api.token, 'x'.repeat(16));
  assert.equal(buildConfig({ api: { host: '127.0.0.2' } }).api.host, '127.0.0.2');
});

test('flags override the file; relative paths resolve against the config folder', () => {
  const config = buildConfig({ node: 'a', dataDir: 'data', procRoot: 'proc', api: { port: 1 }, plugins: { dirs: ['p'] } }, { node: 'b', port: 2, dataDir: '/x' }, '/etc/eventd');
  assert.equal(config.node, 'b');
  assert.equal(config.api.port, 2);
  assert.equal(config.dataDir, '/x');
  assert.equal(config.procRoot, '/etc/eventd/proc');
  assert.deepEqual(config.plugins.dirs, ['/etc/eventd/p']);
});

const badAtStart = (raw: unknown, pattern: RegExp) =>
  assert.rejects(loadConfig(raw), (error: { code?: string; message?: string }) => {
    assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
    assert.match(error.message ?? '', pattern);
    return true;
  });

test('plugins own their settings: a misspelled key under producers.<Class> or a consumer section is refused naming it', async () => {
  await badAtStart({ producers: { FileSystem: { mountPonts: ['/'] } } }, /producers\.FileSystem\.mountPonts: unknown key/);
  await badAtStart({ producers: { Host: { period: 5 } } }, /producers\.Host\.period: unknown key/);
  await badAtStart({ producers: { Process: { watch: 'sshd' } } }, /producers\.Process\.watch: must be array/);
  await badAtStart({ failover: { groups: [], fenceMS: 10 } }, /failover\.fenceMS: unknown key/);
  await badAtStart({ failover: { groups: [{ name: 'web', strat: './start.sh' }] } }, /failover\.groups\.0\.strat: unknown key/);
  // What the plugin checks beyond its schema is refused at start too, naming the key.
  await badAtStart({ failover: { groups: [{ name: 'web' }] } }, /failover\.groups\[0\]\.start: required/);
  const config = await loadConfig({ producers: { FileSystem: { mountPoints: ['/'], periodMs: 1000 } } });
  assert.deepEqual(config.producers['FileSystem'], { mountPoints: ['/'], periodMs: 1000 });
  // A class no plugin provides yet (a plugin dropped in later) is not checked until it arrives.
  assert.deepEqual((await loadConfig({ producers: { Temperature: { zone: 1 } } })).producers['Temperature'], { zone: 1 });
});

test('eventd --config with a misspelled producer key stops at start, naming the key', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'eventd.json');
  writeFileSync(file, JSON.stringify({ node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, producers: { FileSystem: { mountPonts: ['/'] } } }));
  await assert.rejects(promisify(execFile)(process.execPath, [join(packageRoot, 'bin', 'eventd'), '--config', file], { timeout: 20_000 }), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /producers\.FileSystem\.mountPonts: unknown key/);
    return true;
  });
});

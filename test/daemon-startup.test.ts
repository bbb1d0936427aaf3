// Start-up failures a user can fix (issue 10, "friction found on the way"):
// each is one line on stderr naming the port or the path, exit 2, no stack.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../services/eventd/paths.js';
import { Store } from '../services/eventd/store/index.js';
import { setSwap } from './helpers/proc.js';
import { nobody, runAs } from './helpers/run-as.js';
import { tempDir } from './helpers/tmp.js';

const eventd = join(packageRoot, 'bin', 'eventd');

function writeConfig(dir: string, config: Record<string, unknown>): string {
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const file = join(dir, 'eventd.json');
  writeFileSync(file, JSON.stringify({ node: 'n1', procRoot, api: { port: 0 }, log: { level: 'warn' }, ...config }));
  chmodSync(file, 0o644);
  return file;
}

function assertOneLine(result: { status: number | null; stderr: string }, mentions: string): void {
  assert.equal(result.status, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line:\n${result.stderr}`);
  assert.ok(lines[0]?.startsWith('eventd: '), result.stderr);
  assert.ok(lines[0]?.includes(mentions), `names ${mentions}: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

test('an API port in use: one line naming the port, exit 2', async (t) => {
  const dir = tempDir(t);
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise<void>((resolve) => holder.close(() => resolve())));
  const port = (holder.address() as { port: number }).port;
  const config = writeConfig(dir, { dataDir: join(dir, 'data'), api: { port } });
  const result = await runAs(0, process.execPath, [eventd, '--config', config], { timeoutMs: 30_000 });
  assertOneLine(result, `port ${port}`);
  assert.match(result.stderr, /in use/);
});

test('a data folder the daemon may not write: one line naming the folder, exit 2', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  const config = writeConfig(dir, { dataDir });
  const result = await runAs(nobody, process.execPath, [eventd, '--config', config], { timeoutMs: 30_000 });
  assertOneLine(result, dataDir);
  assert.match(result.stderr, /not writable/);
});

test('a read-only database: one line naming the file, exit 2', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  Store.open(dataDir).close(); // made by root, 0644: readable, not writable, by nobody
  chownSync(dataDir, nobody, nobody);
  const config = writeConfig(dir, { dataDir });
  const result = await runAs(nobody, process.execPath, [eventd, '--config', config], { timeoutMs: 30_000 });
  assertOneLine(result, join(dataDir, 'eventd.db'));
});

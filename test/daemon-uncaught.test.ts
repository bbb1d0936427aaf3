// A throw nobody caught stops the daemon loudly: one fatal log line naming it
// and exit 70 (EX_SOFTWARE), like an unhandled rejection, never a bare stack
// on stderr and exit 1 that a supervisor cannot tell from a refused start.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { defer } from './helpers/cleanup.js';
import { exitOf } from './helpers/daemon.js';
import { packageRoot } from '../services/eventd/paths.js';
import { GiveUp, tempDir, waitFor } from './helpers/tmp.js';

test('an uncaught exception in the daemon is one fatal line naming it and exit 70', async (t) => {
  const dir = tempDir(t);
  // The fault: a preload whose SIGUSR2 listener throws inside the daemon's process.
  const preload = join(dir, 'throw-on-usr2.mjs');
  writeFileSync(preload, "process.on('SIGUSR2', () => { throw new Error('injected fault 7f3a'); });\n");
  const configFile = join(dir, 'eventd.json');
  writeFileSync(configFile, JSON.stringify({ node: 'n1', dataDir: join(dir, 'data'), api: { port: 0 }, producers: {} }));
  const child = spawn(process.execPath, ['--import', preload, join(packageRoot, 'bin', 'eventd'), '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  defer(t, async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exitOf(child, 10_000); } }, 'kill eventd');
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('eventd to listen', () => {
    if (child.exitCode !== null) throw new GiveUp(`eventd exited ${child.exitCode}:\n${output}`);
    return output.includes('eventd listening on');
  }, 30_000);

  child.kill('SIGUSR2');
  const exit = await exitOf(child, 15_000);
  assert.ok(exit, `eventd still running after the uncaught exception:\n${output}`);
  assert.equal(exit.code, 70, output);
  const fatal = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string }).filter((entry) => entry.level === 60);
  assert.equal(fatal.length, 1, output);
  assert.match(fatal[0]!.msg, /uncaught exception \(injected fault 7f3a\)/);
});

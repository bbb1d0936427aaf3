// Raise idempotency keys do not pile up: a key lives as long as its event stays
// in the log. Retention that prunes the event drops the key (a retry then
// records anew); a key whose event is still there keeps answering duplicate.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from './helpers/node-test.js';
import { DaemonProcess } from './helpers/daemon.js';
import { deployClass } from './helpers/messaging.js';
import { setSwap } from './helpers/proc.js';
import { tempDir } from './helpers/tmp.js';

interface Raised { id: string; duplicate: boolean }

const keysIn = (dataDir: string): string[] => {
  const db = new Database(join(dataDir, 'eventd.db'), { readonly: true });
  try {
    return (db.prepare("SELECT key FROM meta WHERE key LIKE 'raise-key:%' ORDER BY key").all() as { key: string }[]).map((row) => row.key);
  } finally {
    db.close();
  }
};

test('a raise key goes with its event when retention prunes it; a key whose event stays still answers duplicate', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 10);
  const dataDir = join(dir, 'data');
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir, procRoot, api: { port: 0 }, log: { level: 'info' },
    events: { maxCount: 100, classes: { Deploy: deployClass } },
  }, t);
  await daemon.start();
  const raise = async (body: Record<string, unknown>): Promise<Raised> => {
    const answer = await daemon.request<Raised>('POST', '/v1/events', { class: 'Deploy', resource: 'web', ...body });
    assert.ok(answer.status === 201 || answer.status === 200, JSON.stringify(answer.body));
    return answer.body;
  };
  const old = await raise({ attrs: { version: 1 }, key: 'deploy-1' });
  // 120 more events: the keyed one falls out of the newest 100.
  for (let version = 2; version <= 121; version += 1) await raise({ attrs: { version } });
  const recent = await raise({ attrs: { version: 122 }, key: 'deploy-122' });
  assert.deepEqual(keysIn(dataDir), ['raise-key:deploy-1', 'raise-key:deploy-122']);

  // Retention runs at start (and hourly).
  await daemon.stop();
  await daemon.start();
  assert.deepEqual(keysIn(dataDir), ['raise-key:deploy-122'], 'the key of the pruned event is gone, the other stays');
  assert.match(daemon.log, /"keys":1[,}].*pruned old events|pruned old events.*"keys":1[,}]/);
  const kept = await raise({ attrs: { version: 122 }, key: 'deploy-122' });
  assert.deepEqual([kept.id, kept.duplicate], [recent.id, true]);
  const again = await raise({ attrs: { version: 1 }, key: 'deploy-1' });
  assert.equal(again.duplicate, false, 'a retry after its event was pruned records anew');
  assert.notEqual(again.id, old.id);
});

// The daemon's other writes are fail-stop too: a real daemon process whose
// SQLite file gets a trigger (written from this test's own connection) that
// refuses one kind of write, as a failing disk would. Whatever the write,
// the daemon stops with exit 74 and one fatal line naming it, rather than die
// of an uncaught exception out of a timer (exit 1, a stack on stderr).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { fatalExitCode } from '../services/eventd/fatal.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { Store } from '../services/eventd/store/index.js';
import { localEventLog } from './helpers/event-log.js';
import { AedesBroker, MqttRecorder } from './helpers/mqtt-broker.js';
import { freshSamples, mqttDaemon, setSwap, subscribeSwapHigh, waitForEvents } from './helpers/mqtt-daemon.js';
import { DaemonProcess } from './helpers/daemon.js';
import { test } from './helpers/node-test.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

/** The daemon's fatal log lines (pino level 60). */
function fatalLines(log: string): { msg: string; what?: string }[] {
  return log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; what?: string }).filter((entry) => entry.level === 60);
}

/** From another connection: every `statements` write on `table` in the daemon's file now aborts. */
function refuse(dataDir: string, table: string, statements: readonly ('INSERT' | 'UPDATE' | 'DELETE')[]): void {
  const db = new Database(join(dataDir, 'eventd.db'));
  try {
    db.pragma('busy_timeout = 10000');
    for (const statement of statements) {
      db.exec(`CREATE TRIGGER refuse_${table}_${statement.toLowerCase()} BEFORE ${statement} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END`);
    }
  } finally {
    db.close();
  }
}

async function assertFatal(daemon: DaemonProcess, what: string): Promise<void> {
  const exit = await daemon.exit(30_000);
  assert.deepEqual(exit, { code: fatalExitCode, signal: null }, `exit ${fatalExitCode}:\n${daemon.log.split('\n').slice(-8).join('\n')}`);
  const fatals = fatalLines(daemon.log);
  assert.equal(fatals.length, 1, JSON.stringify(fatals));
  assert.equal(fatals[0]?.what, what);
  assert.match(fatals[0]?.msg ?? '', new RegExp(`^stopping: ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed to commit \\(injected: disk I/O error\\)`));
}

test('a failed prune of old events stops the daemon with a fatal line', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  // 101 events on disk, one over the bound the daemon is given.
  const store = Store.open(dataDir);
  const { log, recorder } = localEventLog(store, createMetrics());
  log.transaction('seeding', () => {
    for (let i = 0; i < 101; i++) {
      recorder.record({ type: 'event', subscription: 's', subscriptionName: 's', class: 'PagingSpace', resource: 'total', node: 'n1', expr: 'true', attrs: { i }, time: new Date().toISOString() }, { id: 's', scope: 'local', order: 'fifo' });
    }
  });
  store.close();
  refuse(dataDir, 'events', ['DELETE']);
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir, api: { port: 0 }, events: { maxCount: 100 }, log: { level: 'info' } }, t);
  await assert.rejects(daemon.start(), /eventd exited 74/);
  await assertFatal(daemon, 'pruning old events');
});

test('a consumer cursor that cannot be saved stops the daemon with a fatal line', async (t) => {
  const dir = tempDir(t);
  const broker = await AedesBroker.start();
  defer(t, () => broker.close());
  const watcher = await MqttRecorder.connect(broker.url, 'eventd/events/#');
  defer(t, () => watcher.close());
  const { daemon, procRoot } = mqttDaemon(dir, { url: broker.url }, 40, t);
  await daemon.start();
  await subscribeSwapHigh(daemon);
  await freshSamples(daemon);
  setSwap(procRoot, 80);
  await waitForEvents(daemon, 1);
  await waitFor('the event over MQTT', () => watcher.messages.length === 1);

  refuse(join(dir, 'data'), 'consumer_cursors', ['INSERT', 'UPDATE']);
  setSwap(procRoot, 50); // a rearm: published, acknowledged, then its position saved
  await assertFatal(daemon, "saving consumer mqtt's cursor");
});

// failover.fence on real daemons: after kill -9 of the holder, the winner of
// the takeover runs the fence script against it (EVENTD_FENCE_NODE) and
// starts the group only once that succeeded. A failing fence script blocks
// the takeover (and is retried, each attempt a FailoverFence event); once it
// succeeds, the group starts.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { startCluster } from './helpers/cluster.js';
import { holdingsOf, loggingGroupScript } from './helpers/failover-lab.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

test('a failing fence script blocks the takeover; once it succeeds the survivor starts the group', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const { script, log } = loggingGroupScript(dir);
  const fenceLog = join(dir, 'fence.log');
  const verdict = join(dir, 'fence-verdict');
  writeFileSync(fenceLog, '');
  writeFileSync(verdict, '1');
  const fence = join(dir, 'fence.sh');
  // Like a fence agent: the node to fence, then the answer of the "power switch" (the verdict file).
  writeFileSync(fence, `#!/bin/sh\necho "$(date +%s%3N) $EVENTD_NODE fences $EVENTD_FENCE_NODE" >> "${fenceLog}"\nexit $(cat "${verdict}")\n`);
  chmodSync(fence, 0o755);
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3'], {
    extra: { failover: { groups: [{ name: 'db', start: script, stop: script, prefer: ['n1'], timeout: '5s' }], fence: { run: fence, timeout: '5s' } } },
  });
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  await waitFor('db on n1', () => holdingsOf(log).some((h) => h.node === 'n1'), 20_000);
  await nodes[0]!.daemon.kill9();
  const attempts = () => readFileSync(fenceLog, 'utf8').trim().split('\n').filter(Boolean);
  await waitFor('three failed fence attempts', () => attempts().length >= 3, 20_000);
  assert.ok(attempts().every((line) => / n[23] fences n1$/.test(line)), attempts().join('\n'));
  assert.deepEqual(holdingsOf(log).filter((h) => h.node !== 'n1'), [], 'no survivor started db while the fence fails');
  const events = (await nodes[1]!.daemon.request<{ events: { attrs: Record<string, unknown> }[] }>('GET', '/v1/events?class=FailoverFence&limit=1000')).body.events;
  assert.ok(events.length > 0 && events.every((e) => e.attrs['target'] === 'n1' && e.attrs['result'] === 'failed'), JSON.stringify(events.map((e) => e.attrs)));

  const fixedAt = Date.now();
  writeFileSync(verdict, '0');
  const next = await waitFor('a survivor to start db', () => holdingsOf(log).find((h) => h.node !== 'n1'), 20_000);
  assert.ok(next.from >= fixedAt);
  assert.equal(next.startReason, 'taking over from n1');
  const after = (await nodes[1]!.daemon.request<{ events: { attrs: Record<string, unknown> }[] }>('GET', '/v1/events?class=FailoverFence&limit=1000')).body.events;
  await waitFor('the successful fence recorded', async () =>
    (await nodes[1]!.daemon.request<{ events: { attrs: Record<string, unknown> }[] }>('GET', '/v1/events?class=FailoverFence&limit=1000')).body.events.some((e) => e.attrs['result'] === 'ok'), 5_000);
  assert.ok(after.length >= events.length);
});

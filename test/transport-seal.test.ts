import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from './helpers/node-test.js';
import { Keyring } from '../services/eventd/cluster/edge/keyring.js';
import { open, seal, type SealedEnvelope } from '../services/eventd/cluster/edge/frame-seal.js';
import { ReplayGuard, streamOf } from '../services/eventd/cluster/edge/replay-guard.js';

const newKey = () => randomBytes(32).toString('base64');
const envelope: SealedEnvelope = { from: 'n1', to: 'n2', boot: 1000, counter: 1, sentAt: 1_700_000_000_000, cluster: 'c', body: { type: 'heartbeat', hlc: 5 } };

test('a sealed frame opens under the same key and carries the envelope unchanged', () => {
  const keyring = new Keyring([newKey()]);
  const frame = seal(keyring, envelope);
  assert.ok(!frame.includes(Buffer.from('heartbeat')), 'the body is encrypted');
  assert.deepEqual(open(keyring, frame), { ok: true, envelope });
});

test('rotation: the first key seals, every key opens', () => {
  const [oldKey, newer] = [newKey(), newKey()];
  const before = new Keyring([oldKey]);
  const during = new Keyring([oldKey, newer]);
  const after = new Keyring([newer, oldKey]);
  assert.equal(open(during, seal(before, envelope)).ok, true);
  assert.equal(open(after, seal(before, envelope)).ok, true);
  assert.equal(open(during, seal(after, envelope)).ok, true);
  assert.deepEqual(open(before, seal(after, envelope)), { ok: false, reason: 'unknown-key' });
});

test('a frame from a node without the key, a flipped bit, a truncation: dropped with the reason', () => {
  const keyring = new Keyring([newKey()]);
  const outsider = new Keyring([newKey()]);
  assert.deepEqual(open(keyring, seal(outsider, envelope)), { ok: false, reason: 'unknown-key' });
  const frame = seal(keyring, envelope);
  for (const index of [3, 10, 20, frame.length - 20, frame.length - 1]) {
    const tampered = Buffer.from(frame);
    tampered[index] = tampered[index]! ^ 0x01;
    const result = open(keyring, tampered);
    assert.equal(result.ok, false, `bit flipped at ${index}`);
  }
  // Same key id, forged content: authentication fails.
  const forged = Buffer.from(frame);
  forged[frame.length - 30] = forged[frame.length - 30]! ^ 0xff;
  assert.deepEqual(open(keyring, forged), { ok: false, reason: 'forged' });
  assert.deepEqual(open(keyring, frame.subarray(0, 10)), { ok: false, reason: 'malformed' });
  assert.deepEqual(open(keyring, Buffer.from('garbage that is long enough to pass the length check')), { ok: false, reason: 'malformed' });
});

test('bad keys are refused naming the key', () => {
  assert.throws(() => new Keyring([]), /cluster\.keys: at least one key/);
  assert.throws(() => new Keyring([newKey(), 'c2hvcnQ=']), /cluster\.keys\[1\]: must be 32 bytes/);
});

test('replay guard: each counter once, reordering inside the window, old boots and old counters refused', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('n1', 10, 5), 'fresh');
  assert.equal(guard.check('n1', 10, 5), 'replay');
  assert.equal(guard.check('n1', 10, 7), 'fresh');
  assert.equal(guard.check('n1', 10, 6), 'fresh', 'reordered, not replayed');
  assert.equal(guard.check('n1', 10, 6), 'replay');
  assert.equal(guard.check('n2', 10, 6), 'fresh', 'senders are independent');
  assert.equal(guard.check('n1', 10, 5000), 'fresh');
  assert.equal(guard.check('n1', 10, 7), 'too-old');
  assert.equal(guard.check('n1', 11, 1), 'fresh', 'a restart starts over');
  assert.equal(guard.check('n1', 10, 5001), 'stale-boot');
});

test('replay guard: a persisted high-water refuses every counter at or below it after a restart, a newer boot starts over', () => {
  const before = new ReplayGuard();
  for (const counter of [1, 2, 3, 5]) assert.equal(before.check(streamOf('n2', 'n1'), 7, counter), 'fresh');
  const persisted = new Map([[streamOf('n2', 'n1'), before.highWater(streamOf('n2', 'n1'))!]]);
  assert.deepEqual(persisted.get(streamOf('n2', 'n1')), { boot: 7, counter: 5 });
  const after = new ReplayGuard(persisted);
  assert.equal(after.check(streamOf('n2', 'n1'), 7, 4), 'too-old', 'never seen before the restart, but at or below the high-water');
  assert.equal(after.check(streamOf('n2', 'n1'), 7, 5), 'too-old');
  assert.equal(after.check(streamOf('n2', 'n1'), 6, 100), 'stale-boot');
  assert.equal(after.check(streamOf('n2', 'n1'), 7, 6), 'fresh');
  assert.equal(after.check(streamOf('n2', 'n3'), 7, 1), 'fresh', 'another recipient is another stream');
  assert.equal(after.check(streamOf('n2', 'n1'), 8, 1), 'fresh');
});

test('replay guard: a broadcast stream accepts only counters above the highest (a copy missed, relayed later, is refused)', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check(streamOf('n2', '*'), 7, 3, true), 'fresh');
  assert.equal(guard.check(streamOf('n2', '*'), 7, 1, true), 'too-old');
  assert.equal(guard.check(streamOf('n2', '*'), 7, 3, true), 'replay');
  assert.equal(guard.check(streamOf('n2', '*'), 7, 4, true), 'fresh');
});

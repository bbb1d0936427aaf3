// One contract, every backend (the aedes-persistence habit): the memory store
// the simulator runs on and the SQLite store the daemon runs on pass the same
// suite, so what the simulator proves holds for the daemon's store too.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { describe, test } from 'node:test';
import { MemoryCoreStore, type CoreStore } from '../services/eventd/cluster/core/store.js';
import type { ClusterEvent, SubscriptionEntry } from '../services/eventd/cluster/core/frames.js';
import type { Decision } from '../services/eventd/cluster/core/decisions.js';
import { SqliteCoreStore } from '../services/eventd/cluster/edge/sqlite-core-store.js';
import { Store } from '../services/eventd/store/index.js';
import { tempDir } from './helpers/tmp.js';

interface Backend {
  name: string;
  /** A fresh store, and a way to open it again as after a restart (same data). */
  open(t: { after: (fn: () => void) => void }): { store: CoreStore; reopen: () => CoreStore };
}

const backends: Backend[] = [
  {
    name: 'MemoryCoreStore',
    open: () => {
      const store = new MemoryCoreStore();
      return { store, reopen: () => store };
    },
  },
  {
    name: 'SqliteCoreStore',
    open: (t) => {
      const dir = tempDir(t);
      let db = Store.open(dir);
      defer(t, () => db.close());
      return {
        store: new SqliteCoreStore(db.db),
        reopen: () => {
          db.close();
          db = Store.open(dir);
          return new SqliteCoreStore(db.db);
        },
      };
    },
  },
];

const event = (origin: string, seq: number, payload: string): ClusterEvent => ({ origin, seq, hlc: `${1000 + seq}.0`, order: 'fifo', payload });
const entry = (id: string, hlc: string, value: SubscriptionEntry['value']): SubscriptionEntry => ({ id, version: { hlc, node: 'n1' }, value });

for (const backend of backends) {
  describe(`core store contract: ${backend.name}`, () => {
    test('meta: absent at first, then what was set, surviving a reopen', (t) => {
      const { store, reopen } = backend.open(t);
      assert.equal(store.meta(), undefined);
      const meta = { incarnation: 3, seq: 41, hlc: '1700000000000.2', order: { promised: { n: 2, leader: 'n1' }, committed: 7, delivered: 5 } };
      store.setMeta(meta);
      assert.deepEqual(store.meta(), meta);
      store.setMeta({ ...meta, seq: 42, order: { promised: null, committed: 0, delivered: 0 } });
      assert.deepEqual(reopen().meta(), { ...meta, seq: 42, order: { promised: null, committed: 0, delivered: 0 } });
    });

    test('members: upserted by name, all of them listed', (t) => {
      const { store, reopen } = backend.open(t);
      assert.deepEqual(store.members(), []);
      store.setMember({ name: 'n2', incarnation: 0, inView: true, downIncarnation: -1 });
      store.setMember({ name: 'n1', incarnation: 1, inView: true, downIncarnation: -1 });
      store.setMember({ name: 'n2', incarnation: 2, inView: false, downIncarnation: 2 });
      const byName = (members: ReturnType<CoreStore['members']>) => [...members].sort((a, b) => a.name.localeCompare(b.name));
      const expected = [
        { name: 'n1', incarnation: 1, inView: true, downIncarnation: -1 },
        { name: 'n2', incarnation: 2, inView: false, downIncarnation: 2 },
      ];
      assert.deepEqual(byName(store.members()), expected);
      assert.deepEqual(byName(reopen().members()), expected);
    });

    test('events: immutable once put, read by id and by range in seq order, gaps skipped', (t) => {
      const { store, reopen } = backend.open(t);
      for (const seq of [3, 1, 2, 5]) store.putEvent(event('n1', seq, `first ${seq}`));
      store.putEvent(event('n1', 2, 'a second put of the same id'));
      store.putEvent(event('n2', 1, 'another origin'));
      assert.deepEqual(store.event('n1', 2), event('n1', 2, 'first 2'));
      assert.equal(store.event('n1', 4), undefined);
      assert.equal(store.event('n3', 1), undefined);
      const again = reopen();
      assert.deepEqual(again.events('n1', 1, 5).map((e) => [e.seq, e.payload]), [[1, 'first 1'], [2, 'first 2'], [3, 'first 3'], [5, 'first 5']]);
      assert.deepEqual(again.events('n1', 2, 3).map((e) => e.seq), [2, 3]);
      assert.deepEqual(again.events('n2', 1, 9).map((e) => e.payload), ['another origin']);
      assert.deepEqual(again.events('n9', 1, 9), []);
    });

    test('progress: per origin, the last value set', (t) => {
      const { store, reopen } = backend.open(t);
      assert.deepEqual([...store.progress()], []);
      store.setProgress('n1', 4);
      store.setProgress('n2', 1);
      store.setProgress('n1', 9);
      assert.deepEqual([...reopen().progress()].sort(), [['n1', 9], ['n2', 1]]);
    });

    test('subscriptions: the map by id, tombstones kept', (t) => {
      const { store, reopen } = backend.open(t);
      store.setSubscription(entry('a', '1.0', { name: 'x' }));
      store.setSubscription(entry('b', '1.1', { name: 'y' }));
      store.setSubscription(entry('a', '2.0', null));
      const sorted = reopen().subscriptions().sort((x, y) => x.id.localeCompare(y.id));
      assert.deepEqual(sorted, [entry('a', '2.0', null), entry('b', '1.1', { name: 'y' })]);
    });

    test('decisions: dense by position, overwritten in place, truncated above a position, read from a position on', (t) => {
      const { store, reopen } = backend.open(t);
      assert.deepEqual(store.decisions(1), []);
      const e1 = { n: 1, leader: 'n1' };
      const e2 = { n: 2, leader: 'n2' };
      const view: Decision = { position: 1, epoch: e1, kind: 'view', members: ['n1', 'n2', 'n3'], joined: ['n1', 'n2', 'n3'], left: [], hlc: '1700000000000.0' };
      const at = (position: number, origin: string, seq: number, epoch = e1): Decision => ({ position, epoch, kind: 'event', origin, seq });
      store.putDecision(view);
      store.putDecision(at(2, 'n1', 1));
      store.putDecision(at(3, 'n2', 1));
      store.putDecision(at(4, 'n2', 2));
      store.putDecision(at(3, 'n3', 1, e2));
      store.truncateDecisions(3);
      const again = reopen();
      assert.deepEqual(again.decisions(1), [view, at(2, 'n1', 1), at(3, 'n3', 1, e2)]);
      assert.deepEqual(again.decisions(3), [at(3, 'n3', 1, e2)]);
      assert.deepEqual(again.decisions(4), []);
      again.truncateDecisions(0);
      assert.deepEqual(again.decisions(1), []);
    });
  });
}

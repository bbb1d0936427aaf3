// The edge's payload conversions (cluster/edge/payload.ts), made cheaper for
// bursts (issue 11): toJson must give exactly what a JSON round trip gives,
// and toRecord must keep every field of a peer's draft (newer versions' too).
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { toJson, toPayload, toRecord } from '../services/eventd/cluster/edge/payload.js';
import type { ClusterEvent } from '../services/eventd/cluster/core/frames.js';
import type { EventDraft } from '../services/eventd/log/append.js';

const draft: EventDraft = {
  type: 'event', subscription: 's1', subscriptionName: 'burst', class: 'Burst', resource: 'r1', node: 'n1',
  expr: 'v = 1', attrs: { v: 1, name: 'x', up: true }, prev: { v: 0, name: 'x', up: false }, time: '2026-12-01T15:00:00.000Z',
};

test('toJson gives what JSON.parse(JSON.stringify(value)) gives: undefined left out, non-finite numbers null, toJSON used, arrays kept', () => {
  const values: object[] = [
    draft,
    { ...draft, prev: undefined, silenced: undefined, flapping: false },
    { a: [1, undefined, () => 1, Number.NaN, { b: Infinity, c: undefined }], d: new Date(0), e: null, f: -0, g: { toJSON: () => 'replaced' } },
    [undefined, null, 'x', [[]]],
    { nested: { deeper: { deepest: [{ x: 1 }, { y: [2, 3] }] } }, fn: () => 1 },
  ];
  for (const value of values) assert.deepEqual(toJson(value), JSON.parse(JSON.stringify(value)));
  assert.deepEqual(toPayload(draft, 'cluster'), { reach: 'cluster', draft: JSON.parse(JSON.stringify(draft)) });
});

test('toRecord: a peer\'s draft with its identity, every field kept (unknown ones too), not the payload object itself', () => {
  const wire = (payload: unknown): ClusterEvent => JSON.parse(JSON.stringify({ origin: 'n1', seq: 7, hlc: '1:2', order: 'fifo', payload }));
  const event = wire({ reach: 'cluster', draft: { ...draft, futureField: { x: 1 } } });
  const record = toRecord(event, 'n2');
  assert.deepEqual(record, { ...draft, futureField: { x: 1 }, id: 'n1:7', origin: 'n1', seq: 7, hlc: '1:2' });
  // A copy: changing the record leaves the held event's payload alone.
  record!.resource = 'changed';
  assert.equal(toRecord(event, 'n2')?.resource, 'r1');
  // A local event of another node is held but not logged; a malformed draft is no record.
  assert.equal(toRecord(wire({ reach: 'local', draft }), 'n2'), undefined);
  assert.ok(toRecord(wire({ reach: 'local', draft }), 'n1') !== undefined);
  assert.equal(toRecord(wire({ reach: 'cluster', draft: { ...draft, attrs: { v: [1] } } }), 'n2'), undefined);
  assert.equal(toRecord(wire({ reach: 'cluster', draft: { ...draft, class: '' } }), 'n2'), undefined);
});

// The failover ledger's fold, one event at a time: who owns a group after a
// sequence of claims and votes, as every node folds it.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { groupClass, Ledger, voteClass } from '../consumers/failover/ledger.js';
import type { Attrs, EventRecord } from '../services/eventd/sdk/index.js';

let seq = 0;
function event(origin: string, klass: string, resource: string, attrs: Attrs): EventRecord {
  seq++;
  return {
    id: `${origin}:${seq}`, origin, seq, hlc: String(seq), type: 'event', subscription: 'failover', subscriptionName: 'failover',
    class: klass, resource, node: origin, expr: '', attrs, time: new Date(seq * 1000).toISOString(),
  };
}

const claim = (node: string, from: string | null, fromClaim: string | null): EventRecord =>
  event(node, groupClass, 'svc', { node, state: 'starting', reason: 'test', ...(from === null ? {} : { from }), ...(fromClaim === null ? {} : { fromClaim }) });
const vote = (node: string, claimId: string): EventRecord => event(node, voteClass, 'svc', { claim: claimId, node });

test('a late vote for a superseded claim does not hand the group back to its claimer (failover simulator seed 967)', () => {
  const ledger = new Ledger(() => 4);
  const first = claim('n1', null, null);
  ledger.apply(first);
  for (const voter of ['n2', 'n3', 'n4']) ledger.apply(vote(voter, first.id));
  assert.equal(ledger.owner('svc'), 'n1');

  // n1 crashed; n2 takes over from n1's claim, and a majority confirms it.
  const takeover = claim('n2', 'n1', first.id);
  ledger.apply(takeover);
  for (const voter of ['n2', 'n3', 'n4']) ledger.apply(vote(voter, takeover.id));
  assert.equal(ledger.owner('svc'), 'n2');

  // n1 restarts and votes for its own old claim, then re-claims from it.
  ledger.apply(vote('n1', first.id));
  assert.equal(ledger.owner('svc'), 'n2', 'the old claim came back with a late vote');
  assert.equal(ledger.ownerClaim('svc'), takeover.id);
  const reclaim = claim('n1', 'n1', first.id);
  ledger.apply(reclaim);
  assert.equal(ledger.granted(reclaim.id), false);
  assert.equal(ledger.owner('svc'), 'n2');
  assert.deepEqual(ledger.openGrantedClaims(), [takeover.id], 'nodes would still vote for the superseded claim');
});

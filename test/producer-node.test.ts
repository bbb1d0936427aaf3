import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { nodeSamples } from '../producers/node/index.js';
import { packageRoot } from '../services/eventd/paths.js';

test('Node samples: one per peer, lastHeardMs at sample time, never-heard peers without it', async () => {
  const text = await readFile(join(packageRoot, 'test', 'fixtures', 'node-data', 'cluster-members.json'), 'utf8');
  assert.deepEqual(nodeSamples(text, 1795432290500), [
    { resource: 'n2', attrs: { lastHeardMs: 1000, rttMs: 0.412, incarnation: 0, state: 'up' } },
    { resource: 'n3', attrs: { incarnation: 2, state: 'down' } },
  ]);
  assert.deepEqual(nodeSamples(undefined, 0), [], 'no table: a single node reports nothing');
});

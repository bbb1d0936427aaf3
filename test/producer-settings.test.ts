// producers.<Class> against the manifest's configSchema: the check a plugin
// dropped into a running daemon gets before it loads (the config loader makes
// the same one at start, through producerSettingsSchema).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkProducerSettings } from '../services/eventd/producers/settings-check.js';
import type { ProducerManifest } from '../services/eventd/types.js';

const manifest = (configSchema?: ProducerManifest['configSchema']): ProducerManifest => ({
  class: 'Temperature', periodMs: 1000, attributes: { tempC: { type: 'number' } }, ...(configSchema ? { configSchema } : {}),
});

test('producer settings: declared keys and periodMs pass; a misspelled or mistyped key is named; no schema means no settings', () => {
  const declared = manifest({ type: 'object', properties: { zones: { type: 'array', items: { type: 'string' } } } });
  assert.deepEqual(checkProducerSettings(declared, undefined), []);
  assert.deepEqual(checkProducerSettings(declared, { zones: ['cpu'], periodMs: 500 }), []);
  assert.deepEqual(checkProducerSettings(declared, { zone: ['cpu'] }), ['producers.Temperature.zone: unknown key']);
  assert.deepEqual(checkProducerSettings(declared, { zones: 'cpu' }), ['producers.Temperature.zones: must be array']);
  assert.deepEqual(checkProducerSettings(declared, { periodMs: 1 }), ['producers.Temperature.periodMs: must be >= 10']);
  assert.deepEqual(checkProducerSettings(manifest(), { periodMs: 500 }), []);
  assert.deepEqual(checkProducerSettings(manifest(), { zones: [] }), ['producers.Temperature.zones: unknown key']);
});

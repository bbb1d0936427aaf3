// The messaging config (issue 16): declared event classes, tags and query
// handlers are checked at start, an error naming the key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../services/eventd/config.js';
import { isEventdError } from '../services/eventd/errors.js';
import { EventClasses } from '../services/eventd/messaging/event-classes.js';

function refused(raw: unknown): string {
  try {
    buildConfig(raw, {}, '/tmp');
  } catch (error) {
    assert.ok(isEventdError(error), String(error));
    assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

test('events.classes: declared with attribute types; a wrong type, a lower-case class or a missing attributes is refused naming the key', () => {
  const config = buildConfig({ events: { classes: { Deploy: { attributes: { version: { type: 'number' } } } } }, tags: { role: 'web' }, queries: { uptime: { run: 'uptime' } } }, {}, '/tmp');
  assert.equal(config.events.classes['Deploy']?.attributes['version']?.type, 'number');
  assert.deepEqual(config.tags, { role: 'web' });
  assert.deepEqual(config.queries['uptime'], { run: 'uptime', args: [], timeoutMs: 5000 });
  assert.match(refused({ events: { classes: { Deploy: { attributes: { version: { type: 'int' } } } } } }), /events\.classes\.Deploy\.attributes\.version\.type/);
  assert.match(refused({ events: { classes: { deploy: { attributes: {} } } } }), /events\.classes/);
  assert.match(refused({ events: { classes: { Deploy: {} } } }), /events\.classes\.Deploy.*attributes/);
  assert.match(refused({ tags: { role: 7 } }), /tags\.role/);
  assert.match(refused({ queries: { uptime: { run: 'uptime', timeout: 'soon' } } }), /queries\.uptime\.timeout/);
});

test('a declared class that a producer owns is refused at start, naming events.classes.<Class>', () => {
  const classes = new EventClasses({ PagingSpace: { attributes: {} } });
  assert.throws(() => classes.checkAgainst(['Node', 'PagingSpace']), (error: unknown) => isEventdError(error) && /events\.classes\.PagingSpace/.test(error.message));
});

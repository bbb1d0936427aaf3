import assert from 'node:assert/strict';
import { EventdError } from '../../services/eventd/errors.js';

/** `parse` refuses `config` with EVENTD_ERR_BAD_CONFIG naming `key` first in the message (and in details.key). */
export function assertBadConfig(parse: (config: Record<string, unknown>) => unknown, config: Record<string, unknown>, key: string, mentions: RegExp): void {
  assert.throws(
    () => parse(config),
    (error: unknown) => {
      assert.ok(error instanceof EventdError);
      assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
      assert.equal(error.details?.['key'], key);
      assert.ok(error.message.startsWith(`${key}: `), error.message);
      assert.match(error.message, mentions);
      return true;
    },
  );
}

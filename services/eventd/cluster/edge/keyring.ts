// The cluster keyring: `cluster.keys`, base64 of 32 bytes each. The first key
// seals every frame; every key opens, so keys rotate without downtime:
// add the new key second everywhere, then move it first, then drop the old.
import { createHash } from 'node:crypto';
import { EventdError } from '../../errors.js';

export interface ClusterKey {
  /** First 4 bytes of SHA-256(key): lets a receiver pick the key without trying each. */
  id: Buffer;
  key: Buffer;
}

export class Keyring {
  readonly keys: readonly ClusterKey[];

  constructor(base64Keys: readonly string[]) {
    if (base64Keys.length === 0) throw new EventdError('EVENTD_ERR_BAD_CONFIG', 'cluster.keys: at least one key is required');
    this.keys = base64Keys.map((text, index) => {
      const key = Buffer.from(text, 'base64');
      if (key.length !== 32 || key.toString('base64') !== text.replace(/\s/g, '')) {
        throw new EventdError('EVENTD_ERR_BAD_CONFIG', `cluster.keys[${index}]: must be 32 bytes in base64 (openssl rand -base64 32)`, { key: `cluster.keys[${index}]` });
      }
      return { id: createHash('sha256').update(key).digest().subarray(0, 4), key };
    });
  }

  get primary(): ClusterKey {
    return this.keys[0]!;
  }

  find(id: Buffer): ClusterKey | undefined {
    return this.keys.find((candidate) => candidate.id.equals(id));
  }
}

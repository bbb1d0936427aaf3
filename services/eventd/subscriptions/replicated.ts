// A subscription that arrives from the cluster's replicated map is a peer's
// word, not a fact: it is checked against the same schema as one a client
// submits (plus the fields its origin gave it), and refused when it does not
// fit, rather than cast and trusted because its frame decrypted.
import { describeErrors, validator } from '../schema.js';
import type { Subscription } from '../types.js';

export type ReplicatedCheck = { ok: true; subscription: Subscription } | { ok: false; problems: string[] };

const recordFields = ['id', 'node', 'createdAt'] as const;
/** Given by the origin too, when it knew who asked (api/auth.ts). */
/** createdBy: who made it; updatedAt: set by a PATCH (a change after a fault clears it on every node). */
const optionalRecordFields = ['createdBy', 'updatedAt'] as const;

export function checkReplicated(id: string, value: unknown): ReplicatedCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, problems: ['(root): must be object'] };
  const record: Record<string, unknown> = { ...value };
  const problems: string[] = [];
  if (record['id'] !== id) problems.push(`id: must be the map key "${id}"`);
  for (const field of recordFields) if (typeof record[field] !== 'string' || record[field] === '') problems.push(`${field}: must be a non-empty string`);
  for (const field of optionalRecordFields) if (record[field] !== undefined && (typeof record[field] !== 'string' || record[field] === '')) problems.push(`${field}: must be a non-empty string`);
  for (const field of ['scope', 'order', 'actions'] as const) if (record[field] === undefined) problems.push(`${field}: required in a replicated subscription`);
  const spec: Record<string, unknown> = { ...record };
  for (const field of [...recordFields, ...optionalRecordFields]) delete spec[field];
  const validate = validator('subscription.schema.json');
  if (!validate(spec)) problems.push(...describeErrors(validate.errors));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, subscription: record as Subscription & Record<string, unknown> };
}

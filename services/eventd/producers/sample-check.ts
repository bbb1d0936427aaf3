// Every sample a producer hands over is checked against its manifest before
// the daemon sees it: producers are dumb, but they do not get to lie.
import type { Attrs, ProducerManifest, RawSample } from '../types.js';
import { producerLimits } from './contract.js';

export type SampleCheck = { ok: true; sample: RawSample } | { ok: false; problem: string };

const sampleKeys = new Set(['resource', 'attrs']);

/**
 * `{ resource, attrs }` with a non-empty resource and only declared
 * attributes of their declared types (finite numbers); attributes may be
 * missing. Returns a fresh object holding only what was checked.
 */
export function checkSample(manifest: ProducerManifest, value: unknown): SampleCheck {
  if (!isPlainObject(value)) return { ok: false, problem: `not an object: ${describe(value)}` };
  for (const key of Object.keys(value)) {
    if (!sampleKeys.has(key)) return { ok: false, problem: `${key}: unknown key` };
  }
  const { resource, attrs } = value;
  if (typeof resource !== 'string' || resource.length === 0) {
    return { ok: false, problem: `resource: must be a non-empty string, got ${describe(resource)}` };
  }
  if (resource.length > producerLimits.resourceChars) {
    return { ok: false, problem: `resource: longer than ${producerLimits.resourceChars} characters` };
  }
  if (!isPlainObject(attrs)) return { ok: false, problem: `attrs: must be an object, got ${describe(attrs)}` };
  const checked: Attrs = {};
  for (const [name, attr] of Object.entries(attrs)) {
    // hasOwn: an attribute named `constructor` or `__proto__` must not find Object.prototype.
    const spec = Object.hasOwn(manifest.attributes, name) ? manifest.attributes[name] : undefined;
    if (spec === undefined) return { ok: false, problem: `attrs.${name}: not declared by the ${manifest.class} manifest` };
    const fits = spec.type === 'number' ? typeof attr === 'number' && Number.isFinite(attr) : typeof attr === spec.type;
    if (!fits) return { ok: false, problem: `attrs.${name}: must be a ${spec.type === 'number' ? 'finite number' : spec.type}, got ${describe(attr)}` };
    checked[name] = attr as Attrs[string];
  }
  return { ok: true, sample: { resource, attrs: checked } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

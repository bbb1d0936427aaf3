// Classes of events an application raises (events.classes in config): typed
// like a producer's class, so raised events are checked against their
// attribute types and subscriptions on them are type-checked the same way.
import type { EventClassSpec } from '../config.js';
import { EventdError } from '../errors.js';
import type { Attrs, AttrValue, ProducerManifest } from '../types.js';

/** A raised class has no producer and no period; subscriptions read only its attributes. */
const noPeriod = 0;

export class EventClasses {
  private readonly classes: Map<string, ProducerManifest>;

  constructor(declared: Readonly<Record<string, EventClassSpec>>) {
    this.classes = new Map(Object.entries(declared).map(([name, spec]) => [name, {
      class: name,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      periodMs: noPeriod,
      attributes: { ...spec.attributes },
    }]));
  }

  /** A class both declared here and owned by a producer would have two sets of attribute types: refused at start. */
  checkAgainst(producerClasses: readonly string[]): void {
    const clash = producerClasses.find((name) => this.classes.has(name));
    if (clash !== undefined) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `events.classes.${clash}: the producer ${clash} already owns this class; raised classes need a name of their own`, { field: `events.classes.${clash}` });
    }
  }

  has(name: string): boolean {
    return this.classes.has(name);
  }

  manifest(name: string): ProducerManifest | undefined {
    return this.classes.get(name);
  }

  manifests(): ProducerManifest[] {
    return [...this.classes.values()];
  }

  /** The attrs of a raise, checked against the class: every attribute declared, each of its declared type (a missing one is absent from the sample). */
  checkAttrs(className: string, attrs: unknown): Attrs {
    const manifest = this.classes.get(className);
    if (!manifest) throw unknownClass(className, this.names());
    if (attrs === undefined) return {};
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) {
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', 'attrs: must be an object of attribute values', { field: 'attrs' });
    }
    const checked: Attrs = {};
    for (const [name, value] of Object.entries(attrs)) {
      const spec = manifest.attributes[name];
      if (!spec) {
        throw new EventdError('EVENTD_ERR_UNKNOWN_ATTRIBUTE', `attrs.${name}: class ${className} has no attribute "${name}" (it has: ${Object.keys(manifest.attributes).join(', ') || 'none'})`, { field: `attrs.${name}` });
      }
      if (!isAttrValue(value) || typeof value !== spec.type) {
        throw new EventdError('EVENTD_ERR_ATTRIBUTE_TYPE', `attrs.${name}: must be a ${spec.type} (class ${className}), got ${JSON.stringify(value)}`, { field: `attrs.${name}`, expected: spec.type });
      }
      checked[name] = value;
    }
    return checked;
  }

  private names(): string[] {
    return [...this.classes.keys()].sort();
  }
}

function isAttrValue(value: unknown): value is AttrValue {
  return typeof value === 'number' ? Number.isFinite(value) : typeof value === 'string' || typeof value === 'boolean';
}

function unknownClass(name: string, known: string[]): EventdError {
  return new EventdError('EVENTD_ERR_UNDECLARED_CLASS', `class: "${name}" is not a declared event class (events.classes in config${known.length > 0 ? `; declared: ${known.join(', ')}` : ''})`, { field: 'class' });
}

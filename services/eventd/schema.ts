import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { schemasDir } from './paths.js';

// One ajv instance for every schema in schemas/ (the single source of truth).
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const cache = new Map<string, ValidateFunction>();

export function loadSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as Record<string, unknown>;
}

let registered = false;

/** Every schema in schemas/ registered by its $id, so one may $ref another. */
function registerAll(): void {
  if (registered) return;
  for (const file of readdirSync(schemasDir).filter((name) => name.endsWith('.schema.json')).sort()) ajv.addSchema(loadSchema(file));
  registered = true;
}

export function validator(file: string): ValidateFunction {
  let validate = cache.get(file);
  if (!validate) {
    registerAll();
    const id = loadSchema(file)['$id'];
    validate = typeof id === 'string' ? ajv.getSchema(id) : undefined;
    if (!validate) validate = ajv.compile(loadSchema(file));
    cache.set(file, validate);
  }
  return validate;
}

/** Compiles a schema made at run time (the config schema with the plugins' parts); it may $ref those in schemas/. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  registerAll();
  return ajv.compile(schema);
}

/** Turns ajv errors into one line per problem naming the offending key, e.g. `api.prot: unknown key`. */
export function describeErrors(errors: ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((error) => {
    const path = [root, ...error.instancePath.split('/').filter(Boolean).map(unescape)].filter(Boolean).join('.');
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      return `${path ? path + '.' : ''}${key}: unknown key`;
    }
    if (error.keyword === 'propertyNames') {
      const name = String((error.params as { propertyName: string }).propertyName);
      return `${path ? path + '.' : ''}${name}: not a valid name`;
    }
    if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return `${path || '(root)'}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return `${path || '(root)'}: ${error.message ?? 'is invalid'}`;
  });
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

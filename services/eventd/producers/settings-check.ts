// A producer's settings (producers.<Class> in config) against the schema its
// manifest declares: the same check the config loader makes at start for the
// plugins it finds then, for a plugin dropped in while the daemon runs.
import { compileSchema, describeErrors } from '../schema.js';
import type { ProducerManifest } from '../types.js';

const periodOnly = { type: 'object', properties: {} } as const;

/** The schema of producers.<Class>: periodMs and what the manifest declares; no other key (unless it says so). */
export function producerSettingsSchema(configSchema: ProducerManifest['configSchema']): Record<string, unknown> {
  const own = configSchema ?? periodOnly;
  return {
    additionalProperties: false,
    ...own,
    properties: { periodMs: { type: 'integer', minimum: 10, maximum: 86_400_000 }, ...own.properties },
  };
}

/** Problems naming `producers.<Class>.<key>`; none when the settings fit. */
export function checkProducerSettings(manifest: ProducerManifest, settings: Readonly<Record<string, unknown>> | undefined): string[] {
  if (settings === undefined) return [];
  const validate = compileSchema(producerSettingsSchema(manifest.configSchema));
  return validate(settings) ? [] : describeErrors(validate.errors, `producers.${manifest.class}`);
}

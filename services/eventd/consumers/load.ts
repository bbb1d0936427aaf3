// Finding the consumer plugins: every folder under the built-in consumers dir
// whose index.js default-exports a ConsumerPlugin. Loaded once per process
// (import caches), first by the config loader for their schemas, then by the host.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventdError } from '../errors.js';
import { isConsumerPlugin, type ConsumerPlugin } from './contract.js';

export async function loadConsumerPlugins(dir: string): Promise<ConsumerPlugin[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch {
    return [];
  }
  const plugins: ConsumerPlugin[] = [];
  for (const name of names) {
    const entry = join(dir, name, 'index.js');
    if (!existsSync(entry)) continue;
    const module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    if (!isConsumerPlugin(module.default)) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `consumer in ${join(dir, name)}: index.js must default-export { name, configKey, configSchema, settings, start }`);
    }
    plugins.push(module.default);
  }
  return plugins;
}

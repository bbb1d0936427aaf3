// Loading the daemon's config as `eventd --config` does: the plugins' parts of
// the schema are gathered first (every consumer's section, every producer
// manifest's settings in the built-in and configured plugin folders), so the
// whole file is checked at start and a misspelled key anywhere is an error
// naming it.
import { resolve } from 'node:path';
import { buildConfig, type Config, type ConfigOverrides, type PluginConfigSchemas } from './config.js';
import { loadConsumerPlugins } from './consumers/load.js';
import { builtinConsumersDir, builtinProducersDir } from './paths.js';
import { loadProducerFolder, pluginFolders } from './producers/manifest.js';

export async function loadConfig(raw: unknown, overrides: ConfigOverrides = {}, baseDir = process.cwd(), source = 'config'): Promise<Config> {
  return buildConfig(raw, overrides, baseDir, source, await pluginConfigSchemas(raw, baseDir));
}

export async function pluginConfigSchemas(raw: unknown, baseDir: string): Promise<PluginConfigSchemas> {
  const consumers = await loadConsumerPlugins(builtinConsumersDir);
  const producers: PluginConfigSchemas['producers'][number][] = [];
  const seen = new Set<string>();
  for (const dir of [builtinProducersDir, ...configuredPluginDirs(raw, baseDir)]) {
    let folders: string[];
    try {
      folders = await pluginFolders(dir);
    } catch {
      continue; // a plugin folder that is not there yet: the host watches for it
    }
    for (const folder of folders) {
      const load = await loadProducerFolder(folder);
      // A broken plugin is the producer host's to report; the first provider of a class wins, as there.
      if (!load.ok || seen.has(load.producer.manifest.class)) continue;
      seen.add(load.producer.manifest.class);
      producers.push({ class: load.producer.manifest.class, configSchema: load.producer.manifest.configSchema });
    }
  }
  return { consumers, producers };
}

/** plugins.dirs before validation: only well-formed entries, the schema reports the rest. */
function configuredPluginDirs(raw: unknown, baseDir: string): string[] {
  const dirs = (raw as { plugins?: { dirs?: unknown } } | null)?.plugins?.dirs;
  return Array.isArray(dirs) ? dirs.filter((dir): dir is string => typeof dir === 'string' && dir !== '').map((dir) => resolve(baseDir, dir)) : [];
}

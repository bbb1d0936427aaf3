// Ready-made conditions (RSCT's predefined conditions, updated): data files
// in presets/, each a subscription to start from. Read once at start.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from './logger.js';
import { describeErrors, validator } from './schema.js';
import type { SubscriptionSpec } from './types.js';

export interface Preset {
  name: string;
  description: string;
  subscription: Pick<SubscriptionSpec, 'name' | 'class' | 'expr'> & Partial<Pick<SubscriptionSpec, 'rearm' | 'for' | 'where'>>;
}

export type PresetLoad = { ok: true; preset: Preset } | { ok: false; file: string; problems: string[] };

/** Every `<name>.json` in dir, checked against schemas/preset.schema.json; bad files are reported, not loaded. */
export function readPresets(dir: string): PresetLoad[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const validate = validator('preset.schema.json');
  return files.map((name): PresetLoad => {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      return { ok: false, file, problems: [`not valid JSON: ${(error as Error).message}`] };
    }
    if (!validate(raw)) return { ok: false, file, problems: describeErrors(validate.errors) };
    const preset = raw as Omit<Preset, 'name'>;
    return { ok: true, preset: { name: basename(name, '.json'), ...preset } };
  });
}

export function loadPresets(dir: string, logger: Logger): Preset[] {
  const presets: Preset[] = [];
  for (const result of readPresets(dir)) {
    if (result.ok) presets.push(result.preset);
    else logger.error({ file: result.file, problems: result.problems }, `preset ${result.file} skipped: ${result.problems.join('; ')}`);
  }
  return presets;
}

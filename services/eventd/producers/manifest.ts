// Loading plugin folders: manifest.json validated against
// schemas/producer-manifest.schema.json, then the code it implies.
import { constants } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { describeErrors, validator } from '../schema.js';
import type { ProducerManifest } from '../types.js';
import type { LoadedProducer } from './contract.js';

export const manifestFile = 'manifest.json';
/** Module entry points, in order of preference. */
export const moduleEntries = ['index.js', 'index.mjs'] as const;

export type FolderLoad = { ok: true; producer: LoadedProducer } | { ok: false; problems: string[] };

/** The plugin folders directly under `dir`, sorted by name so load order is stable. */
export async function pluginFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(dir, name));
}

/** Reads and checks one plugin folder; problems name the offending key or file. */
export async function loadProducerFolder(folder: string): Promise<FolderLoad> {
  const file = join(folder, manifestFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`${manifestFile}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`${manifestFile}: not valid JSON: ${(error as Error).message}`] };
  }
  const validate = validator('producer-manifest.schema.json');
  if (!validate(raw)) return { ok: false, problems: describeErrors(validate.errors) };
  const manifest = deepFreeze(raw as ProducerManifest);
  const entry = manifest.exec === undefined ? await findModuleEntry(folder) : await checkExecutable(folder, manifest.exec);
  if (typeof entry !== 'string') return { ok: false, problems: [entry.problem] };
  return { ok: true, producer: { manifest, folder, kind: manifest.exec === undefined ? 'module' : 'exec', entry } };
}

async function findModuleEntry(folder: string): Promise<string | { problem: string }> {
  for (const name of moduleEntries) {
    const file = join(folder, name);
    if (await isFile(file)) return file;
  }
  return { problem: `exec: absent, so the folder must hold ${moduleEntries.join(' or ')}, and it holds neither` };
}

async function checkExecutable(folder: string, exec: string): Promise<string | { problem: string }> {
  const file = resolve(folder, exec);
  // The schema already refuses absolute paths and `..`; this keeps the invariant if it is ever loosened.
  if (!file.startsWith(folder + sep)) return { problem: `exec: ${exec} is outside the plugin folder` };
  if (!(await isFile(file))) return { problem: `exec: ${exec} is not a file in the plugin folder` };
  try {
    await access(file, constants.X_OK);
  } catch {
    return { problem: `exec: ${exec} is not executable (chmod +x)` };
  }
  return file;
}

/**
 * What a folder holds, as a string that changes when any file in it is
 * added, removed, resized or touched (two levels deep; node_modules and
 * dot-folders skipped). A folder that cannot be read fingerprints as such.
 */
export async function fingerprint(folder: string, depth = 2): Promise<string> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    return `!${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  const parts: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (depth > 0 && entry.name !== 'node_modules' && !entry.name.startsWith('.')) parts.push(`${entry.name}/{${await fingerprint(path, depth - 1)}}`);
      continue;
    }
    try {
      const info = await stat(path);
      parts.push(`${entry.name}:${info.size}:${info.mtimeMs}:${info.mode}`);
    } catch {
      parts.push(`${entry.name}:gone`);
    }
  }
  return parts.join(',');
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: the first folder above this file holding package.json. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('eventd: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();
export const schemasDir = join(packageRoot, 'schemas');
/** Ready-made conditions, data files read as they are. */
export const presetsDir = join(packageRoot, 'presets');
/**
 * Built-in producers, compiled beside this code (<outDir>/producers): the same
 * shape as a user's plugin folder.
 */
export const builtinProducersDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'producers');
/** Built-in consumers (<outDir>/consumers), one folder each, loaded by the consumer host. */
export const builtinConsumersDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'consumers');
/** The web console's bundled page (<outDir>/ui, written by scripts/build-ui.mjs). */
export const consoleAssetsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');

// Copies the non-TypeScript files of plugin folders (manifest.json, README.md,
// executables) next to their compiled code in dist/, so a built-in producer or
// consumer in dist/ has the same shape as a user's drop-in plugin folder.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.argv[2] ?? 'dist';
const roots = ['producers', 'consumers'];
for (const root of roots) {
  if (!existsSync(root)) continue;
  copyTree(root, join(outDir, root));
}

function copyTree(from, to) {
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    if (statSync(source).isDirectory()) {
      copyTree(source, target);
    } else if (!entry.endsWith('.ts')) {
      cpSync(source, target, { preserveTimestamps: true });
    }
  }
}

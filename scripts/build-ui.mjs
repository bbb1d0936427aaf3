// Bundles the web console (services/eventd/ui) into dist/ui: one ES module
// with uPlot and the SSE parser inside, its CSS and index.html. Nothing is
// fetched at run time from anywhere but the daemon itself.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const outDir = join(process.argv[2] ?? 'dist', 'ui');
const source = join('services', 'eventd', 'ui');
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(source, 'page', 'main.ts')],
  outfile: join(outDir, 'console.js'),
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(source, 'index.html'), join(outDir, 'index.html'));
copyFileSync(join(source, 'console.css'), join(outDir, 'console.css'));
copyFileSync(join('node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(outDir, 'uPlot.min.css'));
const size = (name) => statSync(join(outDir, name)).size;
if (process.env.EVENTD_UI_SIZES) console.log(`console.js ${size('console.js')} B, console.css ${size('console.css')} B, uPlot.min.css ${size('uPlot.min.css')} B`);

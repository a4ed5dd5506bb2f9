// Builds the browser app into dist/web/ with esbuild: app.js (Preact, d3-geo, the generated
// proto types, the shared filter code), app.css and index.html. Nothing is fetched at run
// time: the country shapes (world-atlas countries-50m, which has Singapore) are bundled,
// their numeric ISO 3166 ids turned into alpha-2 codes here, at build time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist', 'web');
const require = createRequire(import.meta.url);
const countries = require('i18n-iso-countries');

/** countries-50m with each geometry's id replaced by its alpha-2 code ("" when it has none). */
function worldShapes() {
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8'));
  for (const g of topo.objects.countries.geometries) {
    g.id = (g.id !== undefined && countries.numericToAlpha2(g.id)) || '';
    g.properties = { name: g.properties?.name ?? '' };
  }
  delete topo.objects.land;
  return topo;
}

// Virtual modules: the shapes, and empty stand-ins for what the generated proto code needs
// only on the server (the gRPC client constructor).
const virtual = {
  name: 'cillion-web-virtual',
  setup(b) {
    b.onResolve({ filter: /^virtual:world-shapes$/ }, () => ({ path: 'world-shapes', namespace: 'virtual' }));
    b.onLoad({ filter: /^world-shapes$/, namespace: 'virtual' }, () => ({
      // JSON.parse of a string literal parses faster than the same object as JS source.
      contents: `export default JSON.parse(${JSON.stringify(JSON.stringify(worldShapes()))});`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^@grpc\/grpc-js$/ }, () => ({ path: join(here, 'shims', 'grpc.ts') }));
  },
};

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: join(here, 'main.tsx') },
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  outdir: out,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  inject: [join(here, 'shims', 'buffer.ts')],
  define: { 'globalThis.Buffer': 'BrowserBuffer' },
  plugins: [virtual],
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'app.css'), join(out, 'app.css'));
const size = (f) => `${(statSync(join(out, f)).size / 1024).toFixed(0)} KiB`;
console.log(`web: dist/web/app.js ${size('app.js')}, app.css ${size('app.css')}`);
if (Object.keys(result.metafile.inputs).some((p) => p.startsWith('node:'))) throw new Error('web bundle reaches a node: module');

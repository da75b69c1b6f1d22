// The web page as static files any host can serve: src/web/ type-checked with the browser's
// globals (src/web/tsconfig.json), its three entry points bundled by esbuild with the engine they
// import (the WGSL shaders inside, as scripts/bundle-shaders.mjs made them a module), and the
// HTML and CSS copied. `node scripts/build-web.mjs [OUT]`, default dist/web/ (where `kilosecond
// web` serves it from).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const out = resolve(process.argv[2] ?? 'dist/web');
const partial = `${out}.partial`;
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', 'src/web/tsconfig.json'], { stdio: 'inherit' });
} catch {
  process.exit(1); // tsc said what is wrong
}

// Written beside the destination and renamed: a failed build never leaves half a page.
rmSync(partial, { recursive: true, force: true });
await build({
  entryPoints: { page: 'src/web/page.ts', 'decode-worker': 'src/web/decode-worker.ts', 'train-worker': 'src/web/train-worker.ts' },
  outdir: partial,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  define: { KILOSECOND_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join('src/web', file), join(partial, file));
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { recursive: true, force: true });
renameSync(partial, out);
console.log(`kilosecond web page: ${out}`);

// Builds js-snippet/dist and enforces the size budget (min+gzip):
//   core b.js <= 4096 bytes, each adapter <= 2048 bytes; the build fails otherwise.
// Output:
//   dist/b.js, dist/{pdf,video,youtube,vimeo}.js   IIFE, latest (short cache)
//   dist/<version>/...                             the same files, immutable
//   dist/esm/*.mjs                                 ESM for bundlers
//   dist/types/*.d.ts                              hand-written declarations
//   dist/viewer/                                   hosted PDF viewer (pdfjs-dist)
//   dist/demo/                                     demo page + generated media
//   dist/manifest.json                             files, sizes, SRI hashes
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, rmSync, cpSync, readdirSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { createHash } from 'node:crypto';
import { generate } from './scripts/gen-media.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const V = pkg.version;
const BUDGET = { 'b.js': 4096, adapter: 2048 };
const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/${V}`, { recursive: true });
mkdirSync(`${out}/esm`, { recursive: true });

const common = {
  bundle: true,
  target: ['es2020'],
  legalComments: 'none',
  define: { __VERSION__: JSON.stringify(V) },
  logLevel: 'warning',
};
const replaceVersion = s => s.replaceAll('__VERSION__', V);

const iife = { 'b.js': 'src/b.js', 'pdf.js': 'src/iife/pdf.js', 'video.js': 'src/iife/video.js', 'youtube.js': 'src/iife/youtube.js', 'vimeo.js': 'src/iife/vimeo.js' };
const manifest = { version: V, files: {} };
let failed = false;
for (const [name, entry] of Object.entries(iife)) {
  const r = await esbuild.build({ ...common, entryPoints: [entry], format: 'iife', minify: true, write: false });
  const code = `/*! beacon ${name} v${V} */` + replaceVersion(r.outputFiles[0].text);
  writeFileSync(`${out}/${name}`, code);
  writeFileSync(`${out}/${V}/${name}`, code);
  const gz = gzipSync(code, { level: constants.Z_BEST_COMPRESSION }).length;
  const max = BUDGET[name] || BUDGET.adapter;
  const sri = 'sha384-' + createHash('sha384').update(code).digest('base64');
  manifest.files[name] = { bytes: code.length, gzip: gz, budget: max, integrity: sri };
  console.log(`${name.padEnd(11)} ${String(code.length).padStart(6)} B min  ${String(gz).padStart(5)} B gzip  (budget ${max})`);
  if (gz > max) { console.error(`size budget exceeded: ${name} is ${gz} B min+gzip > ${max} B`); failed = true; }
}
if (failed) process.exit(1);

const esm = { 'beacon.mjs': 'src/core.js', 'pdf.mjs': 'src/adapters/pdf.js', 'video.mjs': 'src/adapters/video.js', 'youtube.mjs': 'src/adapters/youtube.js', 'vimeo.mjs': 'src/adapters/vimeo.js' };
for (const [name, entry] of Object.entries(esm)) {
  const r = await esbuild.build({ ...common, entryPoints: [entry], format: 'esm', write: false });
  writeFileSync(`${out}/esm/${name}`, `/*! beacon ${name} v${V} */\n` + replaceVersion(r.outputFiles[0].text));
}
cpSync('types', `${out}/types`, { recursive: true });

// Hosted viewer: one ESM bundle with pdfjs-dist, plus its worker, css and images.
await esbuild.build({ ...common, entryPoints: ['viewer/viewer.js'], format: 'esm', minify: true, outfile: `${out}/viewer/viewer.js` });
cpSync('viewer/index.html', `${out}/viewer/index.html`);
cpSync('node_modules/pdfjs-dist/build/pdf.worker.min.mjs', `${out}/viewer/pdf.worker.min.mjs`);
cpSync('node_modules/pdfjs-dist/web/pdf_viewer.css', `${out}/viewer/pdf_viewer.css`);
cpSync('node_modules/pdfjs-dist/web/images', `${out}/viewer/images`, { recursive: true });

// Demo page and generated media.
cpSync('demo', `${out}/demo`, { recursive: true });
generate(`${out}/demo`);

writeFileSync(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
console.log(`built ${out}/ v${V}: ${readdirSync(out).join(' ')}`);

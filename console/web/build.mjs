// Builds the console's script and stylesheet into ../assets (embedded in the beacon
// binary by go:embed) and fails when a page's JS+CSS exceeds 150 KB min+gzip. esbuild's
// output depends only on the sources and the locked packages, so `make` rebuilds the same
// bytes.
import * as esbuild from 'esbuild';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';

const out = '../assets';
const BUDGET = 150 * 1024;
mkdirSync(out, { recursive: true });
for (const f of ['console.js', 'console.css']) rmSync(`${out}/${f}`, { force: true });
await esbuild.build({
  entryPoints: { console: 'src/main.js' },
  bundle: true, minify: true, format: 'iife', target: ['es2020'], legalComments: 'none',
  outdir: out, logLevel: 'warning',
});
let total = 0;
for (const f of ['console.js', 'console.css']) {
  const b = readFileSync(`${out}/${f}`);
  const gz = gzipSync(b, { level: constants.Z_BEST_COMPRESSION }).length;
  total += gz;
  console.log(`${f.padEnd(12)} ${String(b.length).padStart(7)} B min  ${String(gz).padStart(6)} B gzip`);
}
console.log(`total JS+CSS ${total} B gzip (budget ${BUDGET})`);
if (total > BUDGET) { console.error(`size budget exceeded: ${total} B > ${BUDGET} B`); process.exit(1); }

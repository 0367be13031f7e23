// Generates the demo/test media instead of committing binaries:
//   sample.pdf  - a multi-page PDF written by hand (big page numbers, a title)
//   sample.webm - a short VP8 test-pattern video made with ffmpeg: the system's
//                 when installed, else the static build npm installs with the
//                 snippet's tools (@ffmpeg-installer/linux-x64, an optional
//                 dependency), so a machine without Debian's ffmpeg still gets it
// usage: node scripts/gen-media.mjs [outdir=dist/demo] [pages=6] [seconds=20]
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export function pdf(pages, title) {
  const objs = [];
  const add = s => objs.push(s) && objs.length;
  const catalog = add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // pages, filled below
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids = [];
  for (let i = 1; i <= pages; i++) {
    const text = `BT /F1 96 Tf 220 480 Td (${i}) Tj ET BT /F1 18 Tf 72 760 Td (${title} - page ${i} of ${pages}) Tj ET`;
    const content = add(`<< /Length ${text.length} >>\nstream\n${text}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objs[1] = `<< /Type /Pages /Kids [${kids.map(k => k + ' 0 R').join(' ')}] /Count ${pages} >>`;
  const info = add(`<< /Title (${title}) /Producer (beacon gen-media) >>`);
  let out = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  offs.forEach(o => { out += String(o).padStart(10, '0') + ' 00000 n \n'; });
  out += `trailer\n<< /Size ${objs.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

// ffmpegPath returns the ffmpeg to run: $FFMPEG, the one on PATH, else npm's static build.
export function ffmpegPath() {
  if (process.env.FFMPEG) return process.env.FFMPEG;
  if (spawnSync('ffmpeg', ['-version']).status === 0) return 'ffmpeg';
  const bundled = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '@ffmpeg-installer', 'linux-x64', 'ffmpeg');
  if (existsSync(bundled)) return bundled;
  throw new Error('no ffmpeg: neither on PATH nor in node_modules/@ffmpeg-installer/linux-x64 (run npm install on linux-x64, or set FFMPEG)');
}

export function video(file, seconds) {
  execFileSync(ffmpegPath(), ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=320x180:rate=10:duration=${seconds}`,
    '-c:v', 'libvpx', '-b:v', '200k', '-g', '10', '-an', file]);
}

export function generate(dir, pages = 6, seconds = 20) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sample.pdf'), pdf(pages, 'Partner Playbook'));
  const vf = join(dir, 'sample.webm');
  if (existsSync(vf)) return;
  try { video(vf, seconds); } catch (e) { console.warn('gen-media: no demo video: ' + e.message); }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'dist/demo', pages = '6', seconds = '20'] = process.argv.slice(2);
  generate(dir, +pages, +seconds);
}

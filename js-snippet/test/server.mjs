// A tiny stand-in for the collector used by the browser tests: it serves the
// build with the collector's URL layout (/b.js, /<adapter>.js, /viewer/, /demo/)
// plus test pages, records every batch posted to /v1/events and every pixel
// hit, and answers /l/<token> like a tracked link (record, then 302 with pb_t).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.pdf': 'application/pdf',
  '.webm': 'video/webm', '.json': 'application/json', '.svg': 'image/svg+xml', '.gif': 'image/gif', '.png': 'image/png' };
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

// file maps a request path to a file under js-snippet/.
function file(path) {
  // Like the collector: /b.js, /<adapter>.js and /<version>/<name>.js from dist/.
  const m = /^\/((?:\d+\.\d+\.\d+\/)?[a-z]+\.js)$/.exec(path);
  if (m) return 'dist/' + m[1];
  for (const [pre, dir] of [['/viewer/', 'dist/viewer/'], ['/demo/', 'dist/demo/'], ['/test/', 'test/pages/'], ['/unit/', 'test/unit/']]) {
    if (path.startsWith(pre)) {
      const rest = normalize(path.slice(pre.length) || '.');
      if (rest.startsWith('..')) return null;
      return dir + (rest === '.' ? 'index.html' : rest.endsWith('/') ? rest + 'index.html' : rest);
    }
  }
  return null;
}

// viewerParents (also settable later on the returned object) is written into the
// hosted viewer's <html data-parents>, as a deployment lists the pages that may embed it.
export async function startServer({ links = {}, status = () => 204, viewerParents = '' } = {}) {
  const batches = [], pixels = [], clicks = [];
  const cfg = { viewerParents };
  const srv = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    try {
      if (u.pathname === '/v1/events' && req.method === 'POST') {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const raw = Buffer.concat(chunks);
        // status may answer [code, headers], e.g. [503, { 'retry-after': '3' }].
        const [st, headers] = [].concat(status(raw));
        let body;
        try { body = JSON.parse(raw.toString('utf8')); } catch { body = null; }
        batches.push({ at: Date.now(), bytes: raw.length, contentType: req.headers['content-type'], status: st, body });
        res.writeHead(st, { 'access-control-allow-origin': req.headers.origin || '*', 'access-control-expose-headers': 'Retry-After', ...headers });
        return res.end();
      }
      if (u.pathname === '/v1/p.gif') {
        pixels.push(Object.fromEntries(u.searchParams));
        res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
        return res.end(GIF);
      }
      if (u.pathname.startsWith('/l/')) {
        const tok = u.pathname.slice(3), to = links[tok];
        if (!to) { res.writeHead(404); return res.end(); }
        clicks.push({ at: Date.now(), token: tok, target: to });
        const t = new URL(to, `http://${req.headers.host}`);
        t.searchParams.set('pb_t', tok);
        res.writeHead(302, { location: t.href });
        return res.end();
      }
      const f = file(u.pathname);
      if (!f) { res.writeHead(404); return res.end(); }
      let data = await readFile(join(root, f));
      if (f === 'dist/viewer/index.html') data = Buffer.from(data.toString('utf8').replace('data-parents=""', `data-parents="${cfg.viewerParents}"`));
      const h = { 'content-type': TYPES[extname(f)] || 'application/octet-stream', 'cache-control': 'no-store', 'accept-ranges': 'bytes' };
      // Media elements seek with byte ranges; without them Chromium cannot seek.
      const r = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
      if (r && (r[1] || r[2])) {
        const start = r[1] ? +r[1] : Math.max(0, data.length - +r[2]);
        const end = r[1] && r[2] ? Math.min(+r[2], data.length - 1) : data.length - 1;
        if (start >= data.length || start > end) { res.writeHead(416, { 'content-range': `bytes */${data.length}` }); return res.end(); }
        res.writeHead(206, { ...h, 'content-range': `bytes ${start}-${end}/${data.length}` });
        return res.end(data.subarray(start, end + 1));
      }
      res.writeHead(200, h);
      res.end(data);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' ? 404 : 500);
      res.end(String(e.message));
    }
  });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${srv.address().port}`;
  // events flattens the recorded batches into events, each with its batch's header.
  const events = () => batches.filter(b => b.body).flatMap(b => b.body.events.map(e => ({ ...e, _batch: b.body })));
  return { base, batches, pixels, clicks, events, set viewerParents(v) { cfg.viewerParents = v; }, close: () => new Promise(r => { srv.closeAllConnections(); srv.close(r); }) };
}

// Serve by hand: node test/server.mjs [port] - then open http://127.0.0.1:<port>/demo/
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startServer();
  console.log(`serving ${s.base}/demo/ (batches are printed)`);
  setInterval(() => { while (s.batches.length) console.log(JSON.stringify(s.batches.shift().body)); }, 500);
}

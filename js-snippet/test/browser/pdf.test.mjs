// The hosted PDF.js viewer in real Chromium: document view with page count,
// per-page dwell increments on page changes, completion at the last page, the
// last page's dwell sent on pagehide, engaged time attributed to the document.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until, near } from './helpers.mjs';

let srv, br;
before(async () => { srv = await startServer(); br = await launch(); });
after(async () => { await br?.close(); await srv?.close(); });

// dwell lets the reader stay on a page for ms; it measures the page time and
// is not used to wait for anything.
const dwell = ms => new Promise(r => setTimeout(r, ms));

test('pdf viewer: page changes with dwell, furthest page, complete, pagehide', async () => {
  const page = await br.ctx.newPage();
  await page.goto(`${srv.base}/viewer/?file=/demo/sample.pdf&cid=doc-test&title=Playbook&flush=200&interval=60000`);
  await page.waitForFunction(() => window.beaconDoc && window.beaconDoc.page === 1, null, { timeout: 20000 });
  await dwell(1000);
  const t1 = await page.evaluate(() => { window.pdfViewer.currentPageNumber = 3; return Date.now(); });
  await dwell(1500);
  const t2 = await page.evaluate(() => { window.pdfViewer.currentPageNumber = 6; return Date.now(); });
  await until('complete', () => srv.events().some(e => e.type === 'complete'));
  await dwell(800);
  assert.deepEqual(await page.evaluate(() => [window.beaconDoc.page, window.beaconDoc.furthest, window.beaconDoc.pages]), [6, 6, 6]);
  const t3 = Date.now();
  const n = srv.events().length;
  await page.goto('about:blank');
  await until('pagehide beacon', () => srv.events().length > n);

  const evs = srv.events();
  const doc = evs.filter(e => e.type !== 'engage');
  assert.deepEqual(doc.map(e => [e.type, e.content_id, e.page ?? null, e.page_count ?? null]), [
    ['view', 'doc-test', null, 6],
    ['page', 'doc-test', 1, 6],
    ['page', 'doc-test', 3, 6],
    ['complete', 'doc-test', null, null],
    ['page', 'doc-test', 6, 6],
  ]);
  assert.equal(doc[0].content_type, 'document');
  assert.equal(doc[0].title, 'Playbook');
  const dw = doc.filter(e => e.type === 'page').map(e => e.dwell_ms);
  // Page 1 counts from the document view (pagesloaded), stamped by the page's clock.
  const t0 = doc[0].ts;
  // Round trips to the browser sit between our clock and the page's: allow 300 ms.
  [[dw[0], t1 - t0], [dw[1], t2 - t1], [dw[2], t3 - t2]].forEach(([got, want], i) =>
    assert.ok(near(got, want, 300), `page dwell ${i}: got ${got} ms, want about ${want} ms`));
  // The viewer sends no page view of its own; engaged time belongs to the document.
  const eng = evs.filter(e => e.type === 'engage');
  assert.ok(eng.length >= 1 && eng.every(e => e.content_id === 'doc-test' && e.content_type === 'document'), JSON.stringify(eng));
  assert.ok(near(eng.at(-1).engaged_ms, t3 - t0, 1500), `engaged ${eng.at(-1).engaged_ms}`);
  assert.ok(srv.batches.every(b => b.contentType.startsWith('text/plain')));
  await page.close();
});

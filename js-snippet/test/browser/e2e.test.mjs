// End to end on the local stack (`beacon dev`: ClickHouse, broker, ingest,
// collector, all built from this repo): a reader opens a document in the
// hosted viewer and a video on the demo page, leaves, and every event the
// snippet sent is read back from the raw table in ClickHouse, once, with the
// columns the saved queries use (page dwell, watched ranges, rate, engaged time).
// Skipped, with the reason, when the Go toolchain is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, until, near } from './helpers.mjs';
import { startDev, DESKTOP_UA } from './dev.mjs';

const work = mkdtempSync(join(tmpdir(), 'beacon-e2e-test-'));
let dev, base, sql, br, skip = '';

before(async () => {
  dev = await startDev(work);
  if (dev.skip) { skip = dev.skip; return; }
  ({ base, sql } = dev);
  br = await launch([DESKTOP_UA]);
});

after(async () => {
  await br?.close();
  await dev?.stop?.();
  rmSync(work, { recursive: true, force: true });
});

const dwell = ms => new Promise(r => setTimeout(r, ms)); // reading time being measured, not a wait for anything

test('e2e: document and video engagement land in ClickHouse, each event once', { timeout: 300000 }, async t => {
  if (skip) return t.skip(skip);
  const page = await br.ctx.newPage();
  // Every body handed to sendBeacon or fetch, logged synchronously (pages being unloaded cannot report otherwise).
  await page.addInitScript(() => {
    const logBody = b => { if (typeof b === 'string' && b.includes('"events"')) localStorage.setItem('__sent', (localStorage.getItem('__sent') || '') + b + '\n'); };
    const sb = navigator.sendBeacon.bind(navigator), f = window.fetch.bind(window);
    navigator.sendBeacon = (u, b) => { const ok = sb(u, b); if (ok) logBody(b); return ok; };
    window.fetch = (u, o) => { if (o && o.body) logBody(o.body); return f(u, o); };
  });

  await page.goto(`${base}/viewer/index.html?file=/demo/sample.pdf&cid=doc-e2e&title=E2E%20Guide&flush=300`);
  await page.waitForFunction(() => window.beaconDoc && window.beaconDoc.page === 1, null, { timeout: 30000 });
  await dwell(800);
  const t1 = await page.evaluate(() => { window.pdfViewer.currentPageNumber = 4; return Date.now(); });
  await dwell(600);
  const t2 = await page.evaluate(() => { window.pdfViewer.currentPageNumber = 6; return Date.now(); });
  await dwell(400);
  const t3 = Date.now(); // leaving: the last page's dwell goes on pagehide
  await page.goto(`${base}/demo/index.html`);
  await page.waitForFunction(() => document.querySelector('video').readyState >= 1);
  await page.evaluate(() => { const v = document.querySelector('video'); v.playbackRate = 2; return v.play(); });
  await page.waitForFunction(() => document.querySelector('video').currentTime >= 4, null, { timeout: 20000 });
  const pausedAt = await page.evaluate(() => { const v = document.querySelector('video'); v.pause(); return v.currentTime; });
  await page.goto('about:blank');
  await page.goto(`${base}/healthz`);
  const sent = (await page.evaluate(() => localStorage.getItem('__sent'))).split('\n').filter(Boolean).flatMap(l => JSON.parse(l).events);
  await page.close();
  const ids = sent.map(e => e.id);
  assert.equal(new Set(ids).size, ids.length, 'each event sent once');

  const inList = ids.map(id => `'${id}'`).join(',');
  await until('every sent event in ClickHouse', async () =>
    (await sql(`SELECT count() AS n FROM events WHERE event_id IN (${inList}) FORMAT JSONEachRow`))[0].n == ids.length, 60000);
  const rows = await sql(`SELECT toString(event_id) AS id, type, content_id, content_type, content_title, page, page_count, dwell_ms, engaged_ms,
    action, position, rate, watched_start, watched_end, attribution, device, is_bot, bot_reason FROM events WHERE event_id IN (${inList}) ORDER BY client_time FORMAT JSONEachRow`);
  assert.equal(rows.length, ids.length, 'no duplicates in the raw table');

  const doc = rows.filter(r => r.content_id === 'doc-e2e');
  const view = doc.find(r => r.type === 'view');
  assert.deepEqual([view.content_type, view.content_title, view.page_count], ['document', 'E2E Guide', 6]);
  const pages = doc.filter(r => r.type === 'page').map(r => [r.page, r.dwell_ms]);
  // Page 1 counts from the document view (pagesloaded), stamped by the page's clock.
  const t0 = sent.find(e => e.type === 'view' && e.content_id === 'doc-e2e').ts;
  assert.deepEqual(pages.map(p => p[0]), [1, 4, 6]);
  [[pages[0][1], t1 - t0], [pages[1][1], t2 - t1], [pages[2][1], t3 - t2]].forEach(([got, want], i) =>
    assert.ok(near(got, want, 400), `page ${pages[i][0]} dwell ${got} ms, about ${want} ms`));
  assert.ok(doc.some(r => r.type === 'complete'), 'document completed at its last page');
  assert.ok(doc.some(r => r.type === 'engage' && r.engaged_ms > 0), 'engaged time on the document');

  const vid = rows.filter(r => r.content_id === 'vid-demo-onboarding' && r.type === 'video');
  assert.deepEqual(vid.map(r => r.action), ['ratechange', 'play', 'pause']);
  const pause = vid[2];
  assert.equal(pause.rate, 2);
  assert.ok(near(pause.position, pausedAt, 0.01));
  assert.equal(pause.watched_start.length, 1);
  assert.ok(near(pause.watched_start[0], 0, 0.1) && near(pause.watched_end[0], pausedAt, 0.01), `${pause.watched_start} ${pause.watched_end}`);
  assert.deepEqual([...new Set(rows.map(r => [r.attribution, r.device, r.is_bot, r.bot_reason].join('|')))], ['none|desktop|0|']);
  t.diagnostic(`${rows.length} events from the browser read back from ClickHouse`);
});

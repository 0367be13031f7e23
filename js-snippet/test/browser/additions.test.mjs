// Wire v1 additions end to end in real Chromium against `beacon dev` (collector, local
// Kafka broker, ingest, ClickHouse, all built from this repo): a content version set on the
// page (the hosted viewer's v= parameter: core and PDF adapter), beacon.search with and
// without a clicked result (its e-mail address redacted by the collector), and
// beacon.complete with a score and passed. Every event the page sent is read back from
// ClickHouse with the new columns. Skipped, with the reason, when Go is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, until } from './helpers.mjs';
import { startDev, DESKTOP_UA } from './dev.mjs';

const work = mkdtempSync(join(tmpdir(), 'beacon-additions-test-'));
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

test('versions, searches and scores land in ClickHouse', { timeout: 300000 }, async t => {
  if (skip) return t.skip(skip);
  const page = await br.ctx.newPage();
  await page.goto(`${base}/viewer/index.html?file=/demo/sample.pdf&cid=doc-versioned&title=Guide&v=2026.2&flush=300`);
  await page.waitForFunction(() => window.beaconDoc && window.beaconDoc.page === 1, null, { timeout: 30000 });
  const ids = await page.evaluate(() => [
    window.beacon.search('  price list for jane.doe@acme.example ', 0),
    window.beacon.search('price list', 4, 'doc-versioned'),
    window.beacon.search('no count', 'many'), // not a count: nothing sent
    window.beacon.complete('course-quiz', { score: 40, passed: false, type: 'course' }),
    window.beacon.complete('course-quiz', { score: 92.5, passed: true, type: 'course' }),
    window.beacon.complete('course-quiz', { score: 101, type: 'course' }), // out of range: no score
  ]);
  assert.equal(ids[2], '', 'a search without a count is not sent');
  await page.evaluate(() => { window.pdfViewer.currentPageNumber = 2; });
  await page.goto(`${base}/healthz`); // leaving sends the rest
  await page.close();

  const sent = ids.filter(Boolean);
  const inList = sent.map(id => `'${id}'`).join(',');
  await until('the searches and completions in ClickHouse', async () =>
    (await sql(`SELECT count() AS n FROM events WHERE event_id IN (${inList}) FORMAT JSONEachRow`))[0].n == sent.length, 60000);
  const rows = await sql(`SELECT toString(event_id) AS id, type, content_id, content_type, content_version, search_query, search_results,
    search_clicked, search_flags, score, passed FROM events WHERE event_id IN (${inList}) FORMAT JSONEachRow`);
  const byId = Object.fromEntries(rows.map(r => [r.id, r]));
  const [s1, s2, , c1, c2, c3] = ids.map(id => byId[id]);
  assert.deepEqual([s1.type, s1.search_query, s1.search_results, s1.search_clicked, s1.search_flags], ['search', 'price list for [email]', 0, '', 2]);
  assert.deepEqual([s2.search_query, s2.search_results, s2.search_clicked, s2.search_flags], ['price list', 4, 'doc-versioned', 0]);
  assert.deepEqual([c1.content_id, c1.content_type, c1.score, c1.passed], ['course-quiz', 'course', 40, 0]);
  assert.deepEqual([c2.score, c2.passed], [92.5, 1]);
  assert.deepEqual([c3.score, c3.passed], [null, null]);

  // The document's own events carry its version: the view and pages from the PDF adapter,
  // the engaged time from the core (the viewer set data-content-version).
  await until('the document pages in ClickHouse', async () =>
    (await sql(`SELECT count() AS n FROM events WHERE content_id = 'doc-versioned' AND type = 'page' FORMAT JSONEachRow`))[0].n >= 2, 60000);
  const doc = await sql(`SELECT type, content_version FROM events WHERE content_id = 'doc-versioned' ORDER BY client_time FORMAT JSONEachRow`);
  assert.ok(doc.some(r => r.type === 'view') && doc.some(r => r.type === 'page'), JSON.stringify(doc));
  assert.deepEqual([...new Set(doc.map(r => r.content_version))], ['2026.2'], JSON.stringify(doc));
  t.diagnostic(`${rows.length + doc.length} events read back from ClickHouse`);
});

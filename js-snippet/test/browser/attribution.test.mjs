// Attribution and measurement in a real embed, on the whole local stack (`beacon dev`:
// ClickHouse, broker, ingest, collector, built from this repo), read back from ClickHouse
// through the saved queries. A content owner's portal on its own origin
// (http://localhost:<port>, served here) loads b.js and video.js from the collector
// (http://127.0.0.1:<port>) and embeds the hosted viewer in an iframe; the viewer's
// deployment lists the portal in data-parents. Two people in one browser, one after the
// other, each through their own tracked link minted by `beacon link`:
//   - ann (campaign q4, link to the video) reads pages 1 and 3 of the document and plays the
//     video at 1x, seeking and pausing 0.7 s into a second, each after a second-long task;
//   - bob (campaign q5, link to the document) opens the link twice (two tabs, one after the
//     other) and plays the video at 2x with the same seek and pause.
// Checked against answers computed here by hand from what the test did: document-views
// credits each person (no anonymous device) with opens = openings and the dwell per page;
// (bob: 2 opens in 1 session, the viewer taking the portal's session with the token);
// video-retention has the seconds before each seek and pause; campaign-ranking counts the
// video play as consumed and bob's short reading only with use=any.
// Skipped, with the reason, when the Go toolchain is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { launch, until, near } from './helpers.mjs';
import { startDev, snippet, DESKTOP_UA } from './dev.mjs';

const work = mkdtempSync(join(tmpdir(), 'beacon-attribution-test-'));
let dev, bin, base, sql, br, portalSrv, portal, skip = '';

before(async () => {
  // The owner's portal, on its own origin.
  const page = readFileSync(join(snippet, 'test', 'pages', 'portal.html'));
  portalSrv = http.createServer((req, res) => {
    if (new URL(req.url, 'http://x').pathname !== '/portal.html') { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(page);
  });
  await new Promise(r => portalSrv.listen(0, '127.0.0.1', r));
  portal = `http://localhost:${portalSrv.address().port}`;
  // The collector serves a copy of the build whose viewer lists the portal.
  const dist = join(work, 'dist');
  cpSync(join(snippet, 'dist'), dist, { recursive: true });
  const vi = join(dist, 'viewer', 'index.html');
  writeFileSync(vi, readFileSync(vi, 'utf8').replace('data-parents=""', `data-parents="${portal}"`));

  dev = await startDev(work, { snippetDir: dist });
  if (dev.skip) { skip = dev.skip; return; }
  ({ bin, base, sql } = dev);
  br = await launch([DESKTOP_UA]);
});

after(async () => {
  await br?.close();
  await dev?.stop?.();
  await new Promise(r => portalSrv ? portalSrv.close(r) : r());
  rmSync(work, { recursive: true, force: true });
});

const dwell = ms => new Promise(r => setTimeout(r, ms)); // reading time being measured, not a wait for anything

// link mints a tracked link with `beacon link`, as an owner would.
const link = (user, campaign, content) => execFileSync(bin, ['link', `-link.sites=${join(work, 'var', 'sites.json')}`, `-link.base=${base}`,
  '-link.partner=acme', `-link.user=${user}`, `-link.campaign=${campaign}`, `-link.content=${content}`,
  `-link.target=${portal}/portal.html?c=${encodeURIComponent(base)}&cid=doc-portal&video=1`], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop();

// open follows a link in a new tab and waits for the viewer's document (page 1 shown and
// tracked); it returns the tab, the viewer's frame and when page 1 began.
async function open(url) {
  const page = await br.ctx.newPage();
  await page.goto(url);
  await page.waitForURL(u => u.href.startsWith(portal) && !u.href.includes('pb_t'));
  let frame;
  await until('the viewer frame', () => (frame = page.frames().find(f => f.url().includes('/viewer/'))), 20000);
  await frame.waitForFunction(() => window.beaconDoc && window.beaconDoc.page === 1, null, { timeout: 30000 });
  return { page, frame, t: Date.now() };
}

// watch plays the portal's video at rate; a second-long task ends 0.7 s into a second
// with a seek to `to`, another with the pause. Returns the watched ranges' true ends.
async function watch(page, rate, to) {
  await page.waitForFunction(() => document.getElementById('v') && document.getElementById('v').readyState >= 1 && window.beacon && window.beacon.video, null, { timeout: 20000 });
  await page.evaluate(r => { const v = document.getElementById('v'); v.playbackRate = r; return v.play(); }, rate);
  await page.waitForFunction(() => document.getElementById('v').currentTime >= 1.2, null, { timeout: 20000 });
  const blocked = act => page.evaluate(act => {
    const v = document.getElementById('v');
    const t0 = performance.now(), c0 = v.currentTime, r = v.playbackRate;
    const at = Math.ceil(c0 + r) + 0.7;
    while (performance.now() - t0 < ((at - c0) / r) * 1000) { /* a long task */ }
    const truth = c0 + ((performance.now() - t0) / 1000) * r;
    if (act === 'pause') v.pause(); else v.currentTime = act;
    return truth;
  }, act);
  const seekFrom = await blocked(to);
  await page.waitForFunction(t => { const v = document.getElementById('v'); return !v.seeking && v.currentTime >= t + 0.3; }, to, { timeout: 20000 });
  const pausedAt = await blocked('pause');
  return [[0, seekFrom], [to, pausedAt]];
}

const secondsOf = ranges => new Set(ranges.flatMap(([s, e]) => Array.from({ length: Math.ceil(e) - Math.floor(s) }, (_, i) => Math.floor(s) + i)));

test('embedded viewer on a second origin, two people in one browser: document views, retention and ranking from ClickHouse', { timeout: 420000 }, async t => {
  if (skip) return t.skip(skip);
  const ann = 'ann@acme.example', bob = 'bob@acme.example';

  // Ann, through her link: pages 1 and 3, the video at 1x.
  const a = await open(link(ann, 'q4', 'vid-portal'));
  await dwell(900);
  const a1 = await a.frame.evaluate(() => { window.pdfViewer.currentPageNumber = 3; return Date.now(); });
  await dwell(700);
  const annRanges = await watch(a.page, 1, 10); // page 3 stays visible meanwhile
  const a2 = Date.now();
  await a.page.close(); // leaving: page 3's dwell goes on pagehide
  const annPages = { 1: a1 - a.t, 3: a2 - a1 };

  // Bob, through his own link, in the same browser: opens it twice (one tab after the
  // other), reads page 1, then page 1 and page 2; plays the video at 2x.
  const bobLink = link(bob, 'q5', 'doc-portal');
  const b1 = await open(bobLink);
  await dwell(600);
  const b1end = Date.now();
  await b1.page.close();
  const b2 = await open(bobLink);
  await dwell(500);
  const b2p2 = await b2.frame.evaluate(() => { window.pdfViewer.currentPageNumber = 2; return Date.now(); });
  await dwell(800);
  const bobRanges = await watch(b2.page, 2, 12);
  const b2end = Date.now();
  await b2.page.close();
  const bobPages = { 1: (b1end - b1.t) + (b2p2 - b2.t), 2: b2end - b2p2 };

  // document-views: one row per person, no anonymous device; opens = openings.
  const views = () => sql(`SELECT * FROM q_document_views(lookback = 30, tenant = 'demo', content = 'doc-portal', from = '1970-01-01', to = '2100-01-01', partner = '', limit = 1000) FORMAT JSONEachRow`);
  // bob's two openings are in one session: the viewer takes the portal's session.
  const want = { [`u:${ann}`]: { opens: 1, sessions: 1, pages: annPages }, [`u:${bob}`]: { opens: 2, sessions: 1, pages: bobPages } };
  let rows = [];
  const settled = rs => rs.length === 2 && rs.every(r => want[r.viewer] && +r.opens === want[r.viewer].opens &&
    Object.keys(r.dwell_ms_by_page).sort().join() === Object.keys(want[r.viewer].pages).sort().join());
  await until('document-views to show both people with every page', async () => settled(rows = await views()), 90000).catch(e => { throw new Error(`${e.message}: ${JSON.stringify(rows)}`); });
  // Let the last refresh of the rows settle: the pagehide beacons may still add dwell.
  await until('document-views to stop changing', async () => { const prev = JSON.stringify(rows); rows = await views(); return JSON.stringify(rows) === prev && settled(rows); }, 30000);
  assert.deepEqual(rows.map(r => r.viewer).sort(), [`u:${ann}`, `u:${bob}`], 'each person is credited; no anonymous device');
  for (const r of rows) {
    const w = want[r.viewer];
    assert.equal(r.partner_id, 'acme');
    assert.equal(r.partner_user_id, r.viewer.slice(2));
    assert.equal(+r.opens, w.opens, `${r.viewer} opens`);
    assert.equal(+r.sessions, w.sessions, `${r.viewer} sessions`);
    assert.equal(+r.page_count, 6);
    assert.equal(+r.pages_seen, Object.keys(w.pages).length);
    for (const [p, ms] of Object.entries(w.pages)) {
      assert.ok(near(+r.dwell_ms_by_page[p], ms, 500), `${r.viewer} page ${p}: ${r.dwell_ms_by_page[p]} ms, about ${ms} ms`);
    }
  }

  // video-retention: viewers per second from the two people's ranges.
  const wantSecs = new Map();
  for (const rs of [annRanges, bobRanges]) for (const s of secondsOf(rs)) wantSecs.set(s, (wantSecs.get(s) || 0) + 1);
  const wantCurve = [...wantSecs].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}:${n}`).join(' ');
  const curve = async () => (await sql(`SELECT * FROM q_video_retention(lookback = 30, tenant = 'demo', content = 'vid-portal') FORMAT JSONEachRow`));
  let got = [];
  await until('video-retention to match', async () => {
    got = await curve();
    return got.filter(r => +r.viewers > 0).map(r => `${r.second}:${r.viewers}`).join(' ') === wantCurve;
  }, 60000).catch(e => { throw new Error(`${e.message}: got ${got.filter(r => +r.viewers > 0).map(r => `${r.second}:${r.viewers}`).join(' ')}, want ${wantCurve} (ranges ${JSON.stringify([annRanges, bobRanges])})`); });
  assert.equal(+got[0].loads, 2);
  assert.equal(+got[0].plays, 2);
  for (const [s, e] of [...annRanges, ...bobRanges]) assert.ok(wantSecs.has(Math.floor(e)), `the second ${Math.floor(e)} before ${e} is kept`);

  // campaign-ranking: q4's content is the video ann played (consumed); q5's the document
  // bob read for under 10 s a page (consumed only with use=any).
  const rank = use => sql(`SELECT campaign_id, partner_id, consumed, campaign_contents FROM q_campaign_ranking(lookback = 30, tenant = 'demo', campaign = '', from = '1970-01-01', to = '2100-01-01', use = '${use}') FORMAT JSONEachRow`);
  assert.deepEqual((await rank('engaged')).map(r => `${r.campaign_id}|${r.partner_id}|${r.consumed}|${r.campaign_contents}`), ['q4|acme|1|1', 'q5|acme|0|1']);
  assert.deepEqual((await rank('any')).map(r => `${r.campaign_id}|${r.partner_id}|${r.consumed}|${r.campaign_contents}`), ['q4|acme|1|1', 'q5|acme|1|1']);
  t.diagnostic(`document-views ${JSON.stringify(rows.map(r => [r.viewer, r.opens, r.sessions, r.dwell_ms_by_page]))}; curve ${wantCurve}`);
});

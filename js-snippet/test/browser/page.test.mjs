// Page-level tracking in real Chromium: scroll milestones, outbound and
// download clicks, a tracked /l/ link left to the collector, the partner token
// captured from the landing URL and kept, and what is sent on pagehide.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until } from './helpers.mjs';

let srv, br;
before(async () => {
  srv = await startServer({ links: { 'TOKEN-abc.123': '/test/landing.html?utm=mail' } });
  br = await launch();
});
after(async () => { await br?.close(); await srv?.close(); });

const of = (path) => srv.events().filter(e => new URL(e._batch.url).pathname === path);

test('scroll, clicks, tracked link, token capture, pagehide', async () => {
  const page = await br.ctx.newPage();
  await page.goto(`${srv.base}/test/long.html`);
  await until('page view', () => of('/test/long.html').some(e => e.type === 'view'));

  // Bottom of the viewport at about 55 %, 80 %, then the end of the page.
  for (const share of [0.55, 0.8, 1]) {
    await page.evaluate(s => window.scrollTo(0, s * document.documentElement.scrollHeight - innerHeight), share);
    const want = { 0.55: 50, 0.8: 75, 1: 100 }[share];
    await until(`scroll ${want}`, () => of('/test/long.html').some(e => e.type === 'scroll' && e.depth === want));
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.click('#out');
  await page.click('#dl');
  await page.click('#same');
  await until('two clicks', () => of('/test/long.html').filter(e => e.type === 'click').length === 2);

  // The tracked link navigates through /l/ to the landing page with pb_t.
  const n = of('/test/long.html').length;
  await page.click('#tracked');
  await page.waitForURL(/\/test\/landing\.html/);
  await until('landing view', () => of('/test/landing.html').some(e => e.type === 'view'));
  await until('pagehide beacon of the long page', () => of('/test/long.html').length > n);

  const long = of('/test/long.html');
  assert.deepEqual(long.map(e => e.type === 'click' ? `click:${e.action}` : e.type === 'scroll' ? `scroll:${e.depth}` : e.type),
    ['view', 'scroll:50', 'scroll:75', 'scroll:100', 'click:outbound', 'click:download', 'engage']);
  const [out, dl] = long.filter(e => e.type === 'click');
  assert.equal(out.href, 'https://partner.example.com/pricing?ref=1');
  assert.equal(out.name, 'Partner pricing');
  assert.equal(dl.href, `${srv.base}/demo/sample.pdf`);
  assert.ok(long.every(e => e.content_id === '/test/long.html'));
  assert.ok(long.at(-1).engaged_ms > 0);
  assert.ok(long.every(e => !e._batch.token), 'no token before the tracked link');
  // The tracked link went to the collector, not to the snippet.
  assert.equal(srv.clicks.length, 1);
  assert.equal(srv.clicks[0].token, 'TOKEN-abc.123');

  // Landing: token captured, removed from the address bar, sent with the batch.
  assert.equal(page.url(), `${srv.base}/test/landing.html?utm=mail`);
  const land = of('/test/landing.html');
  assert.equal(land[0].type, 'view');
  assert.equal(land[0].content_id, 'landing');
  assert.equal(land[0]._batch.token, 'TOKEN-abc.123');
  assert.equal(land[0]._batch.url, `${srv.base}/test/landing.html?utm=mail`);
  assert.equal(land[0]._batch.visitor_id, long[0]._batch.visitor_id);
  assert.equal(land[0]._batch.session_id, long[0]._batch.session_id);
  assert.equal(await page.evaluate(() => localStorage.getItem('_bcn_t')), 'TOKEN-abc.123');

  // The token stays first-party for the next pages.
  await page.click('#next');
  await until('next page view', () => srv.events().filter(e => e.type === 'view' && e._batch.url.endsWith('/test/long.html')).length === 2);
  const again = srv.events().filter(e => e.type === 'view' && e._batch.url.endsWith('/test/long.html'))[1];
  assert.equal(again._batch.token, 'TOKEN-abc.123');
  assert.equal(again._batch.v, 1);
  assert.equal(again._batch.site, 'test');
  assert.ok(srv.batches.every(b => b.status === 204 && b.bytes < 65536));
  await page.close();
});

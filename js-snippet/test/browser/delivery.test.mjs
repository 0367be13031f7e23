// Delivery in real Chromium: retries after 503 keep event ids, the offline
// queue survives until the browser is back online, large batches are split
// under the keepalive quota, consent and cookieless modes, the pixel fallback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until } from './helpers.mjs';

let srv, br, fail = 0, spike = null;
before(async () => {
  srv = await startServer({ status: raw => (spike ? spike(raw) : fail-- > 0 ? 503 : 204) });
  br = await launch();
});
after(async () => { await br?.close(); await srv?.close(); });

const ok = () => srv.batches.filter(b => b.status === 204);
const okEvents = () => ok().flatMap(b => b.body.events);
const ready = page => page.waitForFunction(() => window.beacon && window.beacon.event);
// fresh clears this origin's storage and cookies from a page without the snippet.
async function fresh(page) {
  await page.goto(`${srv.base}/test/blank.html`);
  await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
  await br.ctx.clearCookies();
}

test('503 answers are retried with the same event ids', async () => {
  const page = await br.ctx.newPage();
  const n = srv.batches.length;
  fail = 2;
  await page.goto(`${srv.base}/test/plain.html?content-id=retry`);
  await until('delivered after two 503s', () => okEvents().some(e => e.content_id === 'retry'), 20000);
  const tries = srv.batches.slice(n).filter(b => b.body.events.some(e => e.content_id === 'retry'));
  assert.deepEqual(tries.map(b => b.status), [503, 503, 204]);
  assert.equal(new Set(tries.map(b => b.body.events[0].id)).size, 1, 'one event id across retries');
  assert.ok(tries[2].body.sent_at > tries[0].body.sent_at, 'sent_at is the time of each try');
  assert.equal(await page.evaluate(() => localStorage.getItem('_bcn_q')), null, 'offline queue emptied');
  await page.close();
});

// A spike: the collector sheds the first try of every batch with 503 and
// Retry-After, as it does past -collector.maxConcurrentRequests. The browsers it
// refused must come back no sooner than Retry-After and spread out (jitter), not
// together, and a page backing off must not send new batches meanwhile.
test('a 503 spike does not become a storm: Retry-After, jittered backoff, new batches wait', async () => {
  const pages = 10, retryAfter = 2;
  const seen = new Set();
  spike = raw => {
    const b = JSON.parse(raw.toString('utf8'));
    if (!b.events.some(e => /^spike-/.test(e.content_id || e.name || ''))) return 204;
    const k = b.events[0].id;
    if (seen.has(k)) return 204;
    seen.add(k);
    return [503, { 'retry-after': String(retryAfter) }];
  };
  try {
    const n = srv.batches.length;
    const tries = i => {
      const mine = srv.batches.slice(n).filter(b => b.body?.events.some(e => e.content_id === `spike-${i}`));
      return mine.length ? mine.filter(b => b.body.events[0].id === mine[0].body.events[0].id) : [];
    };
    const tabs = [];
    for (let i = 0; i < pages; i++) {
      // cookieless: each tab its own queue (sessionStorage). The page is at another origin
      // than the collector, as on a partner's site: Retry-After is readable only because the
      // collector exposes it (Access-Control-Expose-Headers).
      const page = await br.ctx.newPage();
      await page.goto(`${srv.base.replace('127.0.0.1', 'localhost')}/test/plain.html?content-id=spike-${i}&cookieless=1&endpoint=${srv.base}`);
      tabs.push(page);
      if (i === 0) {
        // While tab 0 backs off, a new batch must wait for the backoff too.
        await until('the first refusal', () => tries(0).length >= 1);
        await tabs[0].evaluate(() => { window.beacon.track('spike-new'); window.beacon.flush(); });
        assert.ok(Date.now() < tries(0)[0].at + retryAfter * 1000, 'the new batch came after the backoff: the test proves nothing');
      }
    }
    await until('every tab delivered after one refusal', () => Array.from({ length: pages }, (_, i) => tries(i)).every(t => t.length === 2), 20000);
    const delays = [];
    for (let i = 0; i < pages; i++) {
      const t = tries(i);
      assert.deepEqual(t.map(b => b.status), [503, 204], `tab ${i}`);
      delays.push(t[1].at - t[0].at);
    }
    const min = Math.min(...delays), max = Math.max(...delays);
    assert.ok(min >= retryAfter * 1000 - 50, `a retry came before Retry-After: ${delays}`);
    assert.ok(max <= retryAfter * 1000 + 1500, `a retry waited past Retry-After plus the jitter window: ${delays}`);
    assert.ok(max - min >= 300, `retries not spread out (no jitter): ${delays}`);
    const fresh = () => srv.batches.slice(n).filter(b => b.body?.events.some(e => e.name === 'spike-new'));
    await until('the new batch after the backoff', () => fresh().some(b => b.status === 204), 10000);
    assert.ok(fresh()[0].at >= tries(0)[0].at + retryAfter * 1000 - 50,
      `a new batch was sent ${fresh()[0].at - tries(0)[0].at} ms after the refusal, inside the backoff`);
    for (const p of tabs) await p.close();
  } finally {
    spike = null;
  }
});

test('offline: batches wait in the bounded offline queue and go when online', async () => {
  const page = await br.ctx.newPage();
  await page.goto(`${srv.base}/test/plain.html?content-id=offline`);
  await ready(page);
  await until('view', () => okEvents().some(e => e.content_id === 'offline'));
  await br.ctx.setOffline(true);
  await page.evaluate(() => { for (let i = 0; i < 30; i++) { window.beacon.track('offline-' + i, { i }); window.beacon.flush(); } });
  const q = JSON.parse(await page.evaluate(() => localStorage.getItem('_bcn_q')));
  assert.equal(q.length, 20, 'bounded: the oldest batches were dropped');
  assert.equal(q[0].e[0].name, 'offline-10');
  assert.ok(!okEvents().some(e => e.name === 'offline-29'));
  await br.ctx.setOffline(false);
  await until('queued batches sent', () => okEvents().filter(e => /^offline-/.test(e.name)).length === 20);
  // Retries go in parallel: the order of arrival is free, the set is not.
  const names = okEvents().filter(e => /^offline-/.test(e.name)).map(e => +e.name.slice(8));
  assert.deepEqual(names.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 10));
  await page.close();
});

test('a large flush is split into bodies under 32 KiB and 100 events', async () => {
  const page = await br.ctx.newPage();
  await page.goto(`${srv.base}/test/plain.html?content-id=split&flush=60000`);
  await ready(page);
  const n = srv.batches.length;
  const ids = await page.evaluate(() => {
    const out = [];
    // 49 events stay pending (50 would flush); each is about 5 KB.
    for (let i = 0; i < 49; i++) out.push(window.beacon.track('big', Object.fromEntries(Array.from({ length: 20 }, (_, k) => ['k' + k, 'é'.repeat(128)]))));
    window.beacon.flush();
    return out;
  });
  await until('all big events', () => okEvents().filter(e => e.name === 'big').length === 49);
  const bodies = srv.batches.slice(n).filter(b => b.body.events.some(e => e.name === 'big'));
  assert.ok(bodies.length >= 7, `${bodies.length} bodies`);
  assert.ok(bodies.every(b => b.bytes <= 32768 && b.body.events.length <= 100), JSON.stringify(bodies.map(b => b.bytes)));
  // Bodies go in parallel: compare the sets; within a body the order is kept.
  assert.deepEqual(bodies.flatMap(b => b.body.events.filter(e => e.name === 'big').map(e => e.id)).sort(), [...ids].sort());
  for (const b of bodies) {
    const pos = b.body.events.map(e => ids.indexOf(e.id));
    assert.deepEqual(pos, [...pos].sort((x, y) => x - y));
  }
  await page.close();
});

test('consent required: nothing is sent or stored before consent(true)', async () => {
  const page = await br.ctx.newPage();
  await fresh(page);
  await page.goto(`${srv.base}/test/plain.html?content-id=consent&consent=required`);
  await ready(page);
  await page.evaluate(() => { window.beacon.track('before-consent'); window.beacon.flush(); });
  const stored = await page.evaluate(() => [Object.keys(localStorage).filter(k => k.startsWith('_bcn_') && k !== '_bcn_c'), document.cookie]);
  assert.deepEqual(stored, [[], '']);
  assert.ok(!srv.batches.some(b => b.body.events.some(e => e.content_id === 'consent')));
  await page.evaluate(() => window.beacon.consent(true));
  await until('events after consent', () => okEvents().filter(e => e.content_id === 'consent').length === 2);
  const b = ok().find(x => x.body.events.some(e => e.content_id === 'consent')).body;
  assert.equal(b.consent, true);
  assert.deepEqual(b.events.map(e => e.type), ['view', 'custom']);
  assert.ok(await page.evaluate(() => localStorage.getItem('_bcn_vid') && document.cookie.includes('_bcn_v=')));
  // Withdrawal: ids, token and queue are removed and nothing more is sent.
  await page.evaluate(() => { window.beacon.consent(false); window.beacon.track('after-withdrawal'); window.beacon.flush(); });
  assert.deepEqual(await page.evaluate(() => [localStorage.getItem('_bcn_vid'), document.cookie.includes('_bcn_v=')]), [null, false]);
  await page.close();
  assert.ok(!srv.batches.some(x => x.body.events.some(e => e.name === 'after-withdrawal')));
});

test('cookieless: no cookie and no localStorage, ids live in sessionStorage', async () => {
  const page = await br.ctx.newPage();
  await fresh(page);
  await page.goto(`${srv.base}/test/plain.html?content-id=cookieless&cookieless=`);
  await ready(page);
  await page.reload();
  await until('two views', () => okEvents().filter(e => e.content_id === 'cookieless' && e.type === 'view').length === 2);
  // The collector has the batch before the page has its answer: the delivery
  // queue (_bcn_q, in sessionStorage too) empties when the answer arrives.
  await until('delivery queue empty', () => page.evaluate(() => sessionStorage.getItem('_bcn_q') === null));
  const st = await page.evaluate(() => [document.cookie, Object.keys(localStorage), Object.keys(sessionStorage).sort()]);
  assert.deepEqual(st, ['', [], ['_bcn_s', '_bcn_vid']]);
  const views = ok().filter(b => b.body.events.some(e => e.content_id === 'cookieless' && e.type === 'view')).map(b => b.body);
  assert.equal(views[0].visitor_id, views[1].visitor_id, 'same tab, same visitor');
  await page.close();
});

test('pixel fallback when neither sendBeacon nor fetch exist', async () => {
  const page = await br.ctx.newPage();
  await page.addInitScript(() => { delete Navigator.prototype.sendBeacon; delete window.fetch; });
  await page.goto(`${srv.base}/test/plain.html?content-id=pixel&title=Pixel%20page`);
  await until('pixel view', () => srv.pixels.some(p => p.cid === 'pixel'));
  const p = srv.pixels.find(x => x.cid === 'pixel');
  assert.equal(p.type, 'view');
  assert.equal(p.site, 'test');
  assert.equal(p.ct, 'page');
  assert.equal(p.t, 'Pixel page');
  assert.match(p.id, /^[0-9a-f-]{36}$/);
  assert.ok(p.vid && p.sid && p.url.endsWith('content-id=pixel&title=Pixel%20page'));
  await page.close();
});

test('Do Not Track: nothing is sent unless the site ignores it or the visitor consents', async () => {
  const page = await br.ctx.newPage();
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
  await fresh(page);
  await page.goto(`${srv.base}/test/plain.html?content-id=dnt`);
  await ready(page);
  await page.evaluate(() => window.beacon.flush());
  await page.goto(`${srv.base}/test/plain.html?content-id=dnt-ignored&dnt=ignore`);
  await until('view with dnt=ignore', () => okEvents().some(e => e.content_id === 'dnt-ignored'));
  assert.ok(!srv.batches.some(b => b.body.events.some(e => e.content_id === 'dnt')), 'nothing sent under DNT');
  // An explicit consent wins over DNT, on this page and the next ones.
  await page.goto(`${srv.base}/test/plain.html?content-id=dnt-consent`);
  await ready(page);
  await page.evaluate(() => window.beacon.consent(true));
  await page.goto(`${srv.base}/test/plain.html?content-id=dnt-consent-next`);
  await until('views after consent', () => okEvents().some(e => e.content_id === 'dnt-consent') && okEvents().some(e => e.content_id === 'dnt-consent-next'));
  await page.close();
});

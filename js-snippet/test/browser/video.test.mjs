// HTML5 video in real Chromium: rate change, seeks forward and back while
// playing, pause, end; watched ranges; heartbeat snapshots; pagehide.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until, near } from './helpers.mjs';

let srv, br;
before(async () => { srv = await startServer(); br = await launch(); });
after(async () => { await br?.close(); await srv?.close(); });

const videoEvents = (url) => srv.events().filter(e => e.content_id === 'vid-test' && e._batch.url.startsWith(url));
const watched = evs => evs.flatMap(e => e.watched || []);

// play waits until the video has reached pos.
const reach = (page, pos) => page.waitForFunction(p => document.getElementById('v').currentTime >= p, pos, { timeout: 20000 });

test('html5 video: rate 2, seeks back and forth, pause, end', async () => {
  const page = await br.ctx.newPage();
  const url = `${srv.base}/test/video.html?run=seeks&interval=60000`;
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('v').readyState >= 1);
  await until('video view', () => videoEvents(url).some(e => e.type === 'view'));

  await page.evaluate(() => { const v = document.getElementById('v'); v.playbackRate = 2; return v.play(); });
  await reach(page, 4);
  const seek1From = await page.evaluate(() => { const v = document.getElementById('v'); const t = v.currentTime; v.currentTime = 12; return t; });
  await reach(page, 15);
  const seek2From = await page.evaluate(() => { const v = document.getElementById('v'); const t = v.currentTime; v.currentTime = 2; return t; });
  await page.waitForFunction(() => { const v = document.getElementById('v'); return v.currentTime >= 6 && v.currentTime < 10; }, null, { timeout: 20000 });
  const pausedAt = await page.evaluate(() => { const v = document.getElementById('v'); v.pause(); return v.currentTime; });
  // Seek while paused, then play to the end.
  await page.evaluate(() => { const v = document.getElementById('v'); v.currentTime = 17; });
  await until('paused seek', () => videoEvents(url).filter(e => e.action === 'seek').length === 3);
  await page.evaluate(() => document.getElementById('v').play());
  await until('complete', () => videoEvents(url).some(e => e.type === 'complete'));
  await page.goto('about:blank');

  const evs = videoEvents(url);
  assert.deepEqual(evs.map(e => e.type === 'video' ? e.action : e.type),
    ['view', 'ratechange', 'play', 'seek', 'seek', 'pause', 'seek', 'play', 'ended', 'complete']);
  const by = a => evs.filter(e => e.action === a);
  assert.equal(evs[0].title, 'Test pattern');
  assert.equal(evs[0].content_type, 'video');
  // data-content-version rides on every event of the video
  assert.ok(evs.every(e => e.content_version === 'v7'), evs.map(e => e.content_version).join());
  assert.equal(by('ratechange')[0].rate, 2);
  assert.ok(near(by('ratechange')[0].duration, 20, 0.2), `duration ${by('ratechange')[0].duration}`);
  const seeks = by('seek');
  assert.ok(near(seeks[0].position, 12, 0.3) && near(seeks[1].position, 2, 0.3) && near(seeks[2].position, 17, 0.01), JSON.stringify(seeks.map(s => s.position)));
  assert.ok(near(by('pause')[0].position, pausedAt, 0.01));
  assert.equal(by('ended')[0].position, 20);
  // Each beacon carries the ranges since the previous one; a range cut by a seek ends
  // where the seek left (the media clock's played range), not at the last timeupdate
  // (every 250 ms of wall time, 0.5 s of media at rate 2).
  assert.deepEqual(seeks[0].watched.length, 1);
  const w = watched(evs);
  assert.equal(w.length, 4, JSON.stringify(w));
  const want = [[0, seek1From], [12, seek2From], [2, pausedAt], [17, 20]];
  w.forEach((r, i) => {
    assert.ok(near(r[0], want[i][0], 0.3) && near(r[1], want[i][1], 0.1), `range ${i}: got ${r} want ${want[i]}`);
  });
  for (const e of evs) assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(srv.events().map(e => e.id)).size, srv.events().length, 'event ids are unique');
  await page.close();
});

test('html5 video: heartbeat snapshots while playing and a last one on pagehide', async () => {
  const page = await br.ctx.newPage();
  const url = `${srv.base}/test/video.html?run=heartbeat&interval=1000`;
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('v').readyState >= 1);
  await page.evaluate(() => document.getElementById('v').play());
  await until('two heartbeats', () => videoEvents(url).filter(e => e.action === 'progress').length >= 2);
  await reach(page, 3.2);
  const before = await page.evaluate(() => document.getElementById('v').currentTime);
  const n = videoEvents(url).length;
  await page.goto('about:blank');
  await until('pagehide beacon', () => videoEvents(url).length > n);

  const evs = videoEvents(url);
  assert.deepEqual(evs.slice(0, 2).map(e => e.action || e.type), ['view', 'play']);
  assert.ok(evs.slice(2).every(e => e.action === 'progress'), evs.map(e => e.action).join(','));
  // Increments: contiguous, non-overlapping, covering 0 .. at least where the page was left.
  const w = watched(evs);
  assert.ok(w.length >= 3, JSON.stringify(w));
  assert.ok(near(w[0][0], 0, 0.1), `first range ${w[0]}`);
  for (let i = 1; i < w.length; i++) assert.equal(w[i][0], w[i - 1][1], `ranges ${JSON.stringify(w)} are contiguous`);
  assert.ok(w.at(-1)[1] >= before - 0.01, `last range ends at ${w.at(-1)[1]}, page left at ${before}`);
  // The last one came from pagehide, in its own batch after the page was gone.
  assert.ok(evs.at(-1).position >= before - 0.01);
  await page.close();
});

// blocked keeps the page's main thread busy until the video, playing at rate, is 0.7 s
// into a second at least a second of wall time away, then runs act (seek or pause)
// there. It returns that position, computed from the clock: the truth the ranges must
// end at, though no event told the page of it in the meantime.
const blocked = (page, act) => page.evaluate(act => {
  const v = document.getElementById('v');
  const t0 = performance.now(), c0 = v.currentTime, rate = v.playbackRate;
  const at = Math.ceil(c0 + rate) + 0.7;
  while (performance.now() - t0 < ((at - c0) / rate) * 1000) { /* a long task */ }
  const truth = c0 + ((performance.now() - t0) / 1000) * rate;
  if (act === 'pause') v.pause(); else v.currentTime = act;
  return truth;
}, act);

for (const rate of [1, 2]) {
  test(`html5 video at ${rate}x: a seek and a pause 0.7 s into a second, main thread blocked for a second, keep that second`, async () => {
    const page = await br.ctx.newPage();
    const url = `${srv.base}/test/video.html?run=blocked-${rate}&interval=60000`;
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('v').readyState >= 1);
    await page.evaluate(r => { const v = document.getElementById('v'); v.playbackRate = r; return v.play(); }, rate);
    await reach(page, 1.2);
    const seekFrom = await blocked(page, 14);
    await page.waitForFunction(() => { const v = document.getElementById('v'); return !v.seeking && v.currentTime >= 14.3; }, null, { timeout: 20000 });
    const pausedAt = await blocked(page, 'pause');
    await until('pause', () => videoEvents(url).some(e => e.action === 'pause'));
    await page.goto('about:blank');

    const evs = videoEvents(url);
    const w = watched(evs);
    assert.equal(w.length, 2, JSON.stringify(w));
    assert.ok(near(w[0][0], 0, 0.1) && near(w[0][1], seekFrom, 0.1), `before the seek: got ${w[0]}, want [0, ${seekFrom}]`);
    assert.ok(near(w[1][0], 14, 0.1) && near(w[1][1], pausedAt, 0.1), `before the pause: got ${w[1]}, want [14, ${pausedAt}]`);
    // seconds as the rollups count them: [s, e) covers floor(s) .. ceil(e) - 1
    const secs = w.flatMap(([s, e]) => Array.from({ length: Math.ceil(e) - Math.floor(s) }, (_, i) => Math.floor(s) + i));
    assert.ok(secs.includes(Math.floor(seekFrom)) && !secs.includes(Math.floor(seekFrom) + 1), `second ${Math.floor(seekFrom)} kept: ${secs}`);
    assert.ok(secs.includes(Math.floor(pausedAt)) && !secs.includes(Math.floor(pausedAt) + 1), `second ${Math.floor(pausedAt)} kept: ${secs}`);
    await page.close();
  });
}

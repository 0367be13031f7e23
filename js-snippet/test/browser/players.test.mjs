// The YouTube and Vimeo IIFE builds in real Chromium, driving stand-in players
// that implement the documented APIs on the real clock: beacon.youtube and
// beacon.vimeo exist once the scripts load; plays, polled progress and pauses
// reach the collector with watched ranges.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until, near } from './helpers.mjs';

let srv, br;
before(async () => { srv = await startServer(); br = await launch(); });
after(async () => { await br?.close(); await srv?.close(); });

const of = id => srv.events().filter(e => e.content_id === id);
const watchedEnd = evs => Math.max(...evs.flatMap(e => (e.watched || []).map(r => r[1])));

test('youtube.js and vimeo.js on stand-in players', async () => {
  const page = await br.ctx.newPage();
  await page.goto(`${srv.base}/test/players.html`);
  await page.waitForFunction(() => window.yt && window.vmReady);
  await page.evaluate(() => window.vmReady);
  await page.evaluate(() => { window.yt.playVideo(); window.vm.play(); });
  await page.waitForFunction(() => window.yt.getCurrentTime() >= 2.5);
  const [ytAt, vmAt] = await page.evaluate(async () => {
    window.yt.pauseVideo();
    const v = await window.vm.getCurrentTime();
    await window.vm.pause();
    return [window.yt.getCurrentTime(), v];
  });
  await until('both pauses', () => of('ytE2E').some(e => e.action === 'pause') && of('4242').some(e => e.action === 'pause'));
  const yt = of('ytE2E'), vm = of('4242');
  assert.deepEqual(yt.map(e => e.action || e.type), ['view', 'play', 'pause']);
  assert.deepEqual(vm.map(e => e.action || e.type), ['view', 'play', 'pause']);
  assert.equal(yt[0].title, 'YT stand-in');
  assert.equal(vm[0].title, 'Vimeo stand-in');
  assert.ok(near(yt[2].position, ytAt, 0.01) && near(watchedEnd(yt), ytAt, 0.01), JSON.stringify(yt[2]));
  assert.ok(near(vm[2].position, vmAt, 0.3) && near(watchedEnd(vm), vm[2].position, 0.01), JSON.stringify(vm[2]));
  // One range from the start (the stand-in's clock may have moved a ms before the adapter read it).
  assert.equal(yt[2].watched.length, 1);
  assert.ok(near(yt[2].watched[0][0], 0, 0.05) && yt[2].watched[0][1] === yt[2].position, JSON.stringify(yt[2].watched));
  await page.close();
});

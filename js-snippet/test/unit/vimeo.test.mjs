import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { trackVimeo } from '../../src/adapters/vimeo.js';
import { advance, fakeTracker, FakeVimeoPlayer } from './standins.mjs';

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

test('vimeo: rate, seek while playing, pause, end', async () => {
  const t = fakeTracker();
  const p = new FakeVimeoPlayer({ id: 76979871, title: 'Partner onboarding', duration: 20 });
  await trackVimeo(t, p, { interval: 60000 });
  p.play();
  p.setPlaybackRate(1.5);
  advance(mock, 4000);       // at 6 s
  p.setCurrentTime(10);
  advance(mock, 2000);       // at 13 s
  p.pause();
  p.play();
  advance(mock, 5000);       // 7 s of media at 1.5: ends at 20
  assert.deepEqual(t.summary(), [
    ['view'],
    ['play', 0, []],
    ['ratechange', 0, []],
    ['seek', 10, [[0, 6]]],
    ['pause', 13, [[10, 13]]],
    ['play', 13, []],
    ['ended', 20, [[13, 20]]],
    ['complete'],
  ]);
  assert.deepEqual(t.evs[0], { type: 'view', content_id: '76979871', content_type: 'video', title: 'Partner onboarding' });
  assert.equal(t.evs[2].rate, 1.5);
});

test('vimeo: heartbeat while playing; the pagehide snapshot carries the rest', async () => {
  const t = fakeTracker();
  const p = new FakeVimeoPlayer({ id: 1, title: 't', duration: 60 });
  await trackVimeo(t, p, { id: 'vid-x', interval: 10000 });
  p.play();
  advance(mock, 13000);
  t.flushHooks(2);
  // The position is the last timeupdate's (they come every 250 ms).
  assert.deepEqual(t.summary(), [['view'], ['play', 0, []], ['progress', 9.75, [[0, 9.75]]], ['progress', 13, [[9.75, 13]]]]);
});

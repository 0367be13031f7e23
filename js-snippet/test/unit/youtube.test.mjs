import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { trackYouTube } from '../../src/adapters/youtube.js';
import { advance, fakeTracker, FakeYTPlayer } from './standins.mjs';

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

test('youtube: polled seeks, rate, pause, seek while paused, end', () => {
  const t = fakeTracker();
  const p = new FakeYTPlayer({ videoId: 'yt123', title: 'Intro', duration: 30 });
  trackYouTube(t, p, { interval: 60000 });
  p.playVideo();
  p.setPlaybackRate(2);
  advance(mock, 3000);       // at 6 s
  p.seekTo(20);
  advance(mock, 2000);       // the poll at 4 s sees 22: a seek
  p.pauseVideo();               // at 24 s
  p.seekTo(2);
  advance(mock, 2000);
  p.playVideo();                // from 2 s: seek then play
  advance(mock, 14000);      // 28 s of media at rate 2: ends at 30
  assert.deepEqual(t.summary(), [
    ['view'],
    ['play', 0, []],
    ['ratechange', 0, []],
    ['seek', 22, [[0, 6]]],
    ['pause', 24, [[22, 24]]],
    ['seek', 2, []],
    ['play', 2, []],
    ['ended', 30, [[2, 30]]],
    ['complete'],
  ]);
  assert.deepEqual(t.evs[0], { type: 'view', content_id: 'yt123', content_type: 'video', title: 'Intro' });
  assert.equal(t.evs[2].rate, 2);
  assert.equal(t.evs[7].duration, 30);
});

test('youtube: heartbeat snapshots every interval and on pagehide, no overlap', () => {
  const t = fakeTracker();
  const p = new FakeYTPlayer({ videoId: 'yt9', title: '', duration: 100 });
  trackYouTube(t, p, { id: 'course-video-1', interval: 5000 });
  p.playVideo();
  advance(mock, 12500);
  t.flushHooks(2);
  t.flushHooks(1); // nothing new since: no second snapshot
  assert.deepEqual(t.summary(), [
    ['view'],
    ['play', 0, []],
    ['progress', 5, [[0, 5]]],
    ['progress', 10, [[5, 10]]],
    ['progress', 12.5, [[10, 12.5]]],
  ]);
  assert.equal(t.evs[0].content_id, 'course-video-1');
});

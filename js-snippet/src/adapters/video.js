// HTML5 <video>/<audio> adapter: play, pause, seek, ratechange, ended, watched
// ranges and heartbeat snapshots.
import { watch } from '../watch.js';
import { on } from '../on.js';

/**
 * trackVideo(tracker, element, { id, title, version, interval })
 * id defaults to data-content-id, then the media URL; version to data-content-version.
 */
export function trackVideo(t, v, o = {}) {
  if (v._bcn) return v._bcn;
  const meta = {
    content_id: o.id || v.getAttribute('data-content-id') || v.currentSrc || v.src,
    content_type: 'video',
    title: o.title || v.getAttribute('data-title') || v.title || '',
  };
  const ver = o.version || v.getAttribute('data-content-version');
  if (ver) meta.content_version = ver;
  const w = (v._bcn = watch(t, meta, o.interval || +v.getAttribute('data-interval')));
  const st = w.st;
  const pos = (w.pos = () => v.currentTime);
  const sync = () => { st.dur = v.duration || 0; st.rate = v.playbackRate; };
  // Where a seek left: the seeking event comes after the seek, possibly much later (a
  // busy main thread), and then currentTime already is the target; Chromium's played
  // ranges end at the position the page last saw, not where the video was. So the
  // position is extrapolated on the media clock from the last sample (p0 at t0): the
  // seeking event's timeStamp is when the seek happened, at the rate; not across a
  // stall (waiting .. playing), when the media clock stood still.
  let p0 = 0, t0 = 0, stall = 0;
  const now = () => performance.now();
  const at = x => { w.at(x); p0 = x; t0 = now(); };
  const upto = e => {
    const ts = e.timeStamp > 0 && e.timeStamp <= now() ? e.timeStamp : now(); // on the performance clock
    return stall ? p0 : Math.min(p0 + (Math.max(t0, ts) - t0) / 1000 * st.rate, st.dur || 1e9);
  };
  // rest: where the media stood still (paused, seeked); the play event can come
  // late, after playback already moved on from there.
  let rest = 0;
  const still = () => { rest = pos(); };
  t.event('view', meta);
  on(v, 'play', () => {
    sync();
    const p = pos(), from = rest <= p && p - rest < 1 + st.rate ? rest : p;
    st.playing = 1;
    w.open(from);
    w.send('play', from);
    at(p);
  });
  // Seeks always come with a seeking event, so between two of them the position moves
  // by playing, however late (a blocked main thread) timeupdate comes; pause and
  // ratechange read the true position.
  on(v, 'timeupdate', () => { if (st.playing && !v.seeking) at(pos()); });
  on(v, 'seeking', e => { if (st.playing) w.at(upto(e)); w.close(); });
  on(v, 'waiting', () => { if (st.playing && !v.seeking) at(pos()); stall = 1; });
  on(v, 'playing', () => { stall = 0; if (st.playing && !v.seeking) at(pos()); });
  on(v, 'seeked', () => { sync(); still(); w.send('seek', pos()); if (st.playing) at(pos()); });
  on(v, 'pause', () => {
    if (v.ended || !st.playing) return;
    st.playing = 0;
    if (!v.seeking) w.at(pos());
    w.close();
    still();
    w.send('pause', pos());
  });
  on(v, 'ratechange', () => { if (st.playing && !v.seeking) at(pos()); sync(); w.send('ratechange', pos()); });
  on(v, 'ended', () => {
    sync();
    if (st.playing) w.at(st.dur);
    st.playing = 0;
    w.close();
    w.send('ended', st.dur);
    w.end();
  });
  return w;
}

// attachAll tracks every media element with a data-content-id attribute.
export const attachAll = (t, root = document) =>
  root.querySelectorAll('video[data-content-id],audio[data-content-id]').forEach(v => trackVideo(t, v));

// HTML5 <video>/<audio> adapter: play, pause, seek, ratechange, ended, watched
// ranges and heartbeat snapshots.
import { watch } from '../watch.js';
import { on } from '../on.js';

/**
 * trackVideo(tracker, element, { id, title, interval })
 * id defaults to data-content-id, then the media URL.
 */
export function trackVideo(t, v, o = {}) {
  if (v._bcn) return v._bcn;
  const meta = {
    content_id: o.id || v.getAttribute('data-content-id') || v.currentSrc || v.src,
    content_type: 'video',
    title: o.title || v.getAttribute('data-title') || v.title || '',
  };
  const w = (v._bcn = watch(t, meta, o.interval || +v.getAttribute('data-interval')));
  const st = w.st;
  const pos = (w.pos = () => v.currentTime);
  const sync = () => { st.dur = v.duration || 0; st.rate = v.playbackRate; };
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
    w.at(p);
  });
  // timeupdate fires every 250 ms at most; more than 3 s of media past the
  // last one without a seek event cannot be continuous playback.
  on(v, 'timeupdate', () => { if (st.playing && !v.seeking) w.at(pos(), 3 * st.rate + 1); });
  on(v, 'seeking', () => w.close());
  on(v, 'seeked', () => { sync(); still(); w.send('seek', pos()); if (st.playing) w.open(pos()); });
  on(v, 'pause', () => {
    if (v.ended || !st.playing) return;
    st.playing = 0;
    if (!v.seeking) w.at(pos(), 3 * st.rate + 1);
    w.close();
    still();
    w.send('pause', pos());
  });
  on(v, 'ratechange', () => { sync(); w.send('ratechange', pos()); });
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

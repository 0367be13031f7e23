// YouTube IFrame API adapter. The player has no progress event, so it is polled
// each second: position jumps that continuous playback cannot explain are seeks.
import { watch } from '../watch.js';

// YT.PlayerState values (documented IFrame API constants).
const ENDED = 0, PLAYING = 1, PAUSED = 2;

/**
 * trackYouTube(tracker, player, { id, title, interval })
 * player: a ready YT.Player (call it from onReady).
 */
export function trackYouTube(t, pl, o = {}) {
  const vd = (pl.getVideoData && pl.getVideoData()) || {};
  const m = /[?&]v=([\w-]+)/.exec(pl.getVideoUrl() || '');
  const meta = { content_id: o.id || vd.video_id || (m && m[1]) || '', content_type: 'video', title: o.title || vd.title || '' };
  if (o.version) meta.content_version = o.version;
  const w = watch(t, meta, o.interval);
  const st = w.st;
  const pos = (w.pos = () => pl.getCurrentTime() || 0);
  let last = pos(), wall = Date.now();
  const sync = () => { st.dur = pl.getDuration() || 0; st.rate = pl.getPlaybackRate() || 1; };
  // moved reports whether pos cannot follow from the previous poll by playing.
  const moved = (p, playing) => {
    const lim = playing ? ((Date.now() - wall) / 1000) * st.rate + 1.5 : 1;
    return p < last - 0.5 || p > last + lim;
  };
  const mark = p => { last = p; wall = Date.now(); };
  t.event('view', meta);

  const poll = () => {
    if (!st.playing) return;
    sync();
    const p = pos();
    if (moved(p, 1)) { w.close(); w.send('seek', p); w.open(p); } else w.at(p);
    mark(p);
  };
  setInterval(poll, 1000);

  pl.addEventListener('onStateChange', e => {
    sync();
    const p = pos();
    if (e.data == PLAYING && !st.playing) {
      if (moved(p, 0)) w.send('seek', p);
      st.playing = 1;
      w.open(p);
      w.send('play', p);
    } else if ((e.data == PAUSED || e.data == ENDED) && st.playing) {
      st.playing = 0;
      if (moved(p, 1)) { w.close(); w.send('seek', p); } else w.at(p);
      w.close();
      if (e.data == PAUSED) w.send('pause', p);
    }
    if (e.data == ENDED) { w.close(); w.send('ended', st.dur); w.end(); }
    mark(p);
  });
  pl.addEventListener('onPlaybackRateChange', e => { sync(); st.rate = e.data; w.send('ratechange', pos()); });
  return w;
}

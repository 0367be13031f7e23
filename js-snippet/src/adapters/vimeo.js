// Vimeo Player (player.js) adapter: events carry {seconds, duration}; getters
// return promises, so the last reported position is kept.
import { watch } from '../watch.js';

/**
 * trackVimeo(tracker, player, { id, title, interval })
 * player: a Vimeo.Player. Resolves to the watcher once the video id is known.
 */
export function trackVimeo(t, pl, o = {}) {
  return Promise.all([pl.getVideoId(), pl.getVideoTitle(), pl.getDuration(), pl.getPlaybackRate()]).then(([vid, title, dur, rate]) => {
    const meta = { content_id: o.id || String(vid), content_type: 'video', title: o.title || title || '' };
    if (o.version) meta.content_version = o.version;
    const w = watch(t, meta, o.interval);
    const st = w.st;
    let sec = 0;
    st.dur = dur;
    st.rate = rate || 1;
    w.pos = () => sec;
    const at = d => { sec = d.seconds; if (d.duration) st.dur = d.duration; };
    t.event('view', meta);
    pl.on('play', d => { at(d); st.playing = 1; w.open(sec); w.send('play', sec); });
    pl.on('timeupdate', d => { if (st.playing) w.at(d.seconds, 3 * st.rate + 1); at(d); });
    pl.on('seeked', d => { at(d); w.at(sec, 0); w.send('seek', sec); });
    pl.on('pause', d => {
      if (!st.playing) return;
      st.playing = 0;
      w.at(d.seconds, 3 * st.rate + 1);
      at(d);
      w.close();
      w.send('pause', sec);
    });
    pl.on('playbackratechange', d => { st.rate = d.playbackRate; w.send('ratechange', sec); });
    pl.on('ended', d => {
      at(d);
      if (st.playing) w.at(st.dur, 3 * st.rate + 1);
      st.playing = 0;
      w.close();
      w.send('ended', st.dur);
      w.end();
    });
    return w;
  });
}

// Watched-range bookkeeping shared by the video adapters. A segment is open
// while the player plays continuously; seeks, pauses and beacons close it.
// Every video beacon carries the ranges watched since the previous one
// (increments), merged.
import { merge, r3 } from './ranges.js';

export function watch(t, meta, interval) {
  let s = -1, p = 0, acc = [], done = 0, beat = 0;
  const st = { dur: 0, rate: 1, playing: 0 };
  const close = () => { if (s >= 0 && p > s) acc.push([s, p]); s = -1; };
  const w = {
    st,
    open(pos) { close(); s = p = pos; },
    // at moves the open segment to pos, or starts a new one when pos is not
    // reachable from the last position within max seconds (a seek).
    at(pos, max) {
      if (s >= 0 && pos >= p - 0.05 && pos - p <= (max == null ? 1e9 : max)) p = Math.max(p, pos);
      else w.open(pos);
    },
    close,
    dirty: () => acc.length || (s >= 0 && p > s),
    send(action, pos) {
      if (s >= 0 && p > s) { acc.push([s, p]); s = p; }
      const f = Object.assign({ action, position: r3(pos), duration: r3(st.dur || 0), rate: st.rate }, meta);
      const m = merge(acc);
      acc = [];
      if (m.length) f.watched = m;
      t.event('video', f);
    },
    end() {
      if (done) return;
      done = 1;
      t.event('complete', meta);
    },
  };
  // Heartbeat: a snapshot every interval while playing, so a lost last beacon
  // costs at most one interval; and a snapshot when the page goes away.
  setInterval(() => { if (st.playing && w.pos) { w.at(w.pos(), 1e9); w.send('progress', w.pos()); } }, interval || 10000);
  t.hook(unload => { if (unload && w.dirty()) { if (st.playing && w.pos) w.at(w.pos()); w.send('progress', w.pos ? w.pos() : p); } });
  return w;
}

// Stand-ins for the players we cannot load here. They implement the documented
// surface the adapters use, with media time driven by the (mocked) clock.

// A tracker that records events and lets the test run the flush hooks.
export function fakeTracker() {
  const t = { evs: [], hooks: [] };
  t.event = (type, f) => { t.evs.push({ type, ...f }); };
  t.hook = fn => t.hooks.push(fn);
  t.flushHooks = u => t.hooks.forEach(h => h(u));
  t.summary = () => t.evs.map(e => e.type === 'video' ? [e.action, e.position, e.watched || []] : [e.type]);
  return t;
}

// Clock-driven media position shared by both stand-ins.
class Media {
  constructor(duration) { this.duration = duration; this.rate = 1; this.pos = 0; this.playing = false; this.since = 0; }
  now() { return this.playing ? Math.min(this.duration, this.pos + ((Date.now() - this.since) / 1000) * this.rate) : this.pos; }
  rebase() { this.pos = this.now(); this.since = Date.now(); }
}

// YouTube IFrame API player (YT.Player): getters, playVideo/pauseVideo/seekTo/
// setPlaybackRate, addEventListener('onStateChange'|'onPlaybackRateChange').
// Like the real one it reports no seek and no progress events.
export class FakeYTPlayer {
  constructor({ videoId, title, duration }) {
    this.m = new Media(duration);
    this.state = -1;
    this.ls = {};
    this.data = { video_id: videoId, title };
  }
  addEventListener(name, fn) { (this.ls[name] ||= []).push(fn); }
  emit(name, data) { (this.ls[name] || []).forEach(fn => fn({ target: this, data })); }
  getVideoData() { return this.data; }
  getVideoUrl() { return `https://www.youtube.com/watch?v=${this.data.video_id}`; }
  getCurrentTime() { return this.m.now(); }
  getDuration() { return this.m.duration; }
  getPlaybackRate() { return this.m.rate; }
  getPlayerState() { return this.state; }
  playVideo() {
    this.m.rebase(); this.m.playing = true; this.state = 1; this.emit('onStateChange', 1);
    clearTimeout(this.endTimer);
    this.endTimer = setTimeout(() => { this.m.rebase(); this.m.playing = false; this.state = 0; this.emit('onStateChange', 0); },
      ((this.m.duration - this.m.pos) / this.m.rate) * 1000);
  }
  pauseVideo() { this.m.rebase(); this.m.playing = false; clearTimeout(this.endTimer); this.state = 2; this.emit('onStateChange', 2); }
  seekTo(s) { const p = this.m.playing; if (p) this.pauseQuiet(); this.m.pos = s; if (p) this.resumeQuiet(); }
  pauseQuiet() { this.m.rebase(); this.m.playing = false; clearTimeout(this.endTimer); }
  resumeQuiet() { this.m.since = Date.now(); this.m.playing = true; this.endTimer = setTimeout(() => { this.m.rebase(); this.m.playing = false; this.state = 0; this.emit('onStateChange', 0); }, ((this.m.duration - this.m.pos) / this.m.rate) * 1000); }
  setPlaybackRate(r) { const p = this.m.playing; if (p) this.pauseQuiet(); this.m.rate = r; if (p) this.resumeQuiet(); this.emit('onPlaybackRateChange', r); }
}

// Vimeo player.js Player: promise getters; on(event, cb) with play, pause,
// ended, seeked, timeupdate (about every 250 ms) and playbackratechange; the
// methods play/pause/setCurrentTime/setPlaybackRate return promises.
export class FakeVimeoPlayer {
  constructor({ id, title, duration }) { this.m = new Media(duration); this.id = id; this.title = title; this.ls = {}; }
  on(name, fn) { (this.ls[name] ||= []).push(fn); }
  emit(name, extra) {
    const s = this.m.now();
    (this.ls[name] || []).forEach(fn => fn({ seconds: s, percent: s / this.m.duration, duration: this.m.duration, ...extra }));
  }
  getVideoId() { return Promise.resolve(this.id); }
  getVideoTitle() { return Promise.resolve(this.title); }
  getDuration() { return Promise.resolve(this.m.duration); }
  getPlaybackRate() { return Promise.resolve(this.m.rate); }
  getCurrentTime() { return Promise.resolve(this.m.now()); }
  play() {
    this.m.rebase(); this.m.playing = true; this.emit('play');
    this.tu = setInterval(() => {
      if (!this.m.playing) return; // node 20's mock clearInterval inside the callback does not stick
      if (this.m.now() >= this.m.duration) { clearInterval(this.tu); this.m.rebase(); this.m.playing = false; this.emit('timeupdate'); this.emit('ended'); return; }
      this.emit('timeupdate');
    }, 250);
    return Promise.resolve();
  }
  pause() { this.m.rebase(); this.m.playing = false; clearInterval(this.tu); this.emit('pause'); return Promise.resolve(); }
  setCurrentTime(s) { this.m.rebase(); this.m.pos = s; this.emit('seeked'); return Promise.resolve(s); }
  setPlaybackRate(r) { this.m.rebase(); this.m.rate = r; this.emit('playbackratechange', { playbackRate: r }); return Promise.resolve(r); }
}

// advance moves the mocked clock in 50 ms steps: node 20's mock.timers.tick
// shows timers the final Date.now(), not their own due time.
export function advance(mock, ms) {
  for (let left = ms; left > 0; left -= 50) mock.timers.tick(Math.min(50, left));
}

// Beacon core: ids, consent, page view, engaged time, scroll depth, outbound and
// download clicks, batching and delivery. It must never break the host page:
// every listener is wrapped, storage failures fall back to memory.
import { split, body, cut } from './batch.js';
import { bounded } from './queue.js';
import { on } from './on.js';

export { on };

export const VERSION = '__VERSION__';

// Each request body stays below this many bytes: Chrome gives all in-flight
// keepalive requests of a page 64 KiB together, so leave room for a second one.
const MAX_BODY = 32768;
const SESSION_MS = 30 * 60 * 1000;
// Field limits of wire format v1 in UTF-8 bytes; longer values would get the
// event (or, for url and referrer, the whole batch) rejected.
// A search text is sent up to 1024 bytes: the collector stores at most 256 of it (and says
// so), after replacing what looks like an e-mail address or a token (WIRE.md).
const LIM = { content_id: 256, clicked: 256, title: 512, name: 128, content_version: 64, query: 1024 };
const DL = /\.(pdf|zip|rar|7z|gz|tgz|dmg|exe|msi|pkg|apk|docx?|xlsx?|pptx?|odt|ods|odp|csv|rtf|epub|mp3|mp4|mov|wav)$/i;

const rnd = n => crypto.getRandomValues(new Uint8Array(n));

// uuid makes an RFC 4122 v4 id; crypto.randomUUID exists only in secure contexts.
export const uuid = () => {
  const b = rnd(16);
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = [...b].map(x => (x + 256).toString(16).slice(1)).join('');
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
};
const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const rid = () => [...rnd(21)].map(x => A[x & 63]).join('');

/**
 * createTracker starts tracking for one page.
 * o: { site, endpoint, cookieless, consent: 'required'|..., dnt: 'ignore'|..., auto: false to skip the page view,
 *      content_id, content_type, title, content_version, heartbeat (ms, default 15000), flush (ms, default 5000),
 *      frames: origins (space-separated) of frames this page hands its partner token to, besides the endpoint's,
 *      parents: origins a framed page takes a partner token from }
 */
export function createTracker(o) {
  const w = window, d = document, nav = navigator, loc = location, now = Date.now;
  const url = (o.endpoint || '').replace(/\/$/, '') + '/v1/events';
  const hb = +o.heartbeat || 15000;

  // Storage: first-party only. Cookieless keeps everything in sessionStorage.
  let st;
  try { st = w[o.cookieless ? 'sessionStorage' : 'localStorage']; } catch (x) { /* blocked */ }
  const mem = {};
  const get = k => { try { return st.getItem(k); } catch (x) { return mem[k]; } };
  const put = (k, v) => {
    mem[k] = v;
    if (granted) try { v == null ? st.removeItem(k) : st.setItem(k, v); } catch (x) { /* full or blocked */ }
  };
  const cookie = v => {
    if (o.cookieless) return null;
    if (v) d.cookie = '_bcn_v=' + v + ';path=/;max-age=31536000;samesite=lax';
    const m = /(?:^|; )_bcn_v=([\w-]{1,64})/.exec(d.cookie);
    return m && m[1];
  };

  const dnt = o.dnt !== 'ignore' && (nav.doNotTrack == '1' || w.doNotTrack == '1' || nav.globalPrivacyControl);
  // An explicit choice (consent(true/false), kept in _bcn_c) wins over the defaults.
  const cc = get('_bcn_c');
  let granted = cc == '1' || (cc != '0' && o.consent != 'required' && !dnt);

  // Ids: visitor in a first-party cookie and storage; session expires after 30 idle minutes.
  let vid = cookie() || get('_bcn_vid') || rid();
  let sid, sLast = 0;
  const ss = (get('_bcn_s') || '').split('.');
  if (ss[1] && now() - ss[1] < SESSION_MS) { sid = ss[0]; sLast = +ss[1]; } else sid = rid();
  const touch = () => {
    const t = now();
    if (t - sLast > SESSION_MS) sid = rid();
    sLast = t;
    put('_bcn_s', sid + '.' + t);
  };
  const keep = () => { if (granted) { cookie(vid); put('_bcn_vid', vid); put('_bcn_t', token); touch(); } };

  // Partner token: captured from the landing URL, removed from the address bar, kept first-party.
  let token = get('_bcn_t');
  try {
    const u = new URL(loc.href), t = u.searchParams.get('pb_t');
    if (t) {
      token = t.slice(0, 1024);
      u.searchParams.delete('pb_t');
      history.replaceState(history.state, '', u.pathname + u.search + u.hash);
    }
  } catch (x) { /* keep going without a token */ }

  const pend = bounded(1000);
  const hooks = [], ls = [];
  let timer = 0, hold = 0;

  // Partner token across frames. A page answers a frame that asks for the token, and
  // offers it to its frames once, always to an exact origin it trusts: the endpoint's
  // (which hosts the viewer and gets the token anyway) and data-frames; never '*'. A framed
  // page (data-parents) asks its parent and takes a token only from its parent window at a
  // listed origin; a token so given replaces the one it stored. The page's visitor and
  // session ids come along: a cross-site frame often has no storage of its own, and would be
  // a new device at every load. Batches wait for the answer (at most 1 s) so the first
  // events are attributed too. Without consent nothing is given.
  const ws = s => (s || '').split(/\s+/).filter(Boolean);
  const kids = [new URL(url, loc.href).origin, ...ws(o.frames)], pars = ws(o.parents);
  const give = (f, org) => { try { f.postMessage(granted ? { beacon: 'token', token: token || '', vid, sid } : { beacon: 'token', token: '' }, org); } catch (x) { /* gone */ } };
  const id = /^[\w-]{1,64}$/;
  on(w, 'message', e => {
    const m = e.data || {};
    if (m.beacon == 'ask' && kids.includes(e.origin) && [].some.call(w, f => f == e.source)) give(e.source, e.origin);
    if (m.beacon == 'token' && e.source == w.parent && w.parent != w && pars.includes(e.origin) && /^([\w-]{1,1000}\.[\w-]{1,40})?$/.test(m.token)) {
      if (m.token) token = m.token;
      if (id.test(m.vid) && id.test(m.sid)) { vid = m.vid; sid = m.sid; sLast = now(); }
      keep();
      hold = 0;
      flush();
    }
  });

  const event = (type, f) => {
    const e = { id: uuid(), type, ts: now() };
    for (const k in f) {
      const v = f[k];
      if (v != null && v !== '') e[k] = typeof v == 'string' ? cut(v, LIM[k] || 2048) : v;
    }
    pend.add(e);
    ls.forEach(f => { try { f(e); } catch (x) { /* a listener must not stop tracking */ } });
    if (pend.length >= 50) flush();
    else if (!timer) timer = setTimeout(flush, +o.flush || 5000);
    return e.id;
  };

  // Delivery queue, written ahead: a batch stays in it (in storage when allowed)
  // until the collector took it, so a request cut by navigation, a network
  // failure or a 5xx/429 is retried with backoff, here or on the next page.
  // Bounded: past 20 batches the oldest go; a batch is tried at most 6 times.
  // After a refusal nothing is sent until the backoff ends (wait): at least the
  // collector's Retry-After, jittered, so the browsers a spike refused come back
  // spread out instead of together, and new batches queue behind the backoff.
  let oq = bounded(20), rt = 0, wait = 0;
  try { oq = bounded(20, JSON.parse(get('_bcn_q')) || []); } catch (x) { /* corrupt: start empty */ }
  const fly = {};
  const saveQ = () => put('_bcn_q', oq.length ? JSON.stringify(oq) : null);
  const done = it => { const i = oq.indexOf(it); if (i >= 0) { oq.splice(i, 1); saveQ(); } };
  const later = (n, ra) => {
    const b = Math.min(60000, 1000 << n), ms = Math.max(Math.min(ra, 60) * 1000 || 0, b / 2) + Math.random() * b / 2;
    if (now() + ms > wait) { wait = now() + ms; clearTimeout(rt); rt = setTimeout(() => { wait = 0; retry(); }, ms); }
  };
  const retry = () => {
    if (granted && nav.onLine !== false) oq.filter(it => !fly[it.k]).forEach(it => send(it));
  };

  // send tries one batch: sendBeacon while the page goes away (nothing else
  // survives unload), otherwise fetch so failures are seen (keepalive for
  // small bodies: all keepalive requests of a page share 64 KiB); the pixel is
  // the last resort for browsers with neither.
  const send = (it, unload) => {
    if (!unload && now() < wait) return saveQ(); // queued behind the backoff: the pending retry sends it
    if (++it.n > 6) return done(it);
    saveQ();
    if (nav.onLine === false) return later(it.n);
    const b = body(it.h, it.e, now());
    if (unload && nav.sendBeacon) try { if (nav.sendBeacon(url, b)) return done(it); } catch (x) { /* fall through */ }
    if (w.fetch) {
      const keepalive = b.length < 8192;
      fly[it.k] = keepalive ? 2 : 1;
      fetch(url, { method: 'POST', body: b, keepalive, credentials: 'omit', headers: { 'content-type': 'text/plain' } })
        .then(r => r.status < 500 && r.status != 429 || [+r.headers.get('retry-after')], () => [0])
        .then(ok => { delete fly[it.k]; ok === true ? done(it) : later(it.n, ok[0]); });
      return;
    }
    it.e.forEach(e => {
      const q = { site: it.h.site, vid, sid: it.h.session_id, tok: token, url: it.h.url, ref: it.h.referrer, type: e.type, id: e.id, ts: e.ts,
        cid: e.content_id, ct: e.content_type, t: e.title, p: e.page, pc: e.page_count, d: e.depth, a: e.action, n: e.name, href: e.href };
      new Image().src = o.endpoint + '/v1/p.gif?' + Object.keys(q).filter(k => q[k] != null && q[k] !== '').map(k => k + '=' + encodeURIComponent(q[k])).join('&');
    });
    done(it);
  };

  // flush sends everything pending. unload is 1 when the page is hidden, 2 on
  // pagehide: adapters then snapshot their state (hooks) so a lost page costs
  // at most one heartbeat interval.
  const flush = unload => {
    clearTimeout(timer);
    timer = 0;
    hooks.forEach(h => { try { h(unload); } catch (x) { /* one adapter must not stop the rest */ } });
    if (!granted || !pend.length || (hold && !unload)) return;
    touch();
    const h = { v: 1, site: o.site, visitor_id: vid, session_id: sid, url: cut(loc.href, 2048), referrer: cut(d.referrer, 2048) };
    if (token) h.token = token;
    if (o.consent == 'required') h.consent = true;
    split(h, pend.splice(0), MAX_BODY).forEach(e => {
      const it = { h, e, n: 0, k: rid() };
      oq.add(it);
      send(it, unload);
    });
  };

  // Page content identity: engage and scroll events belong to it.
  let cid, ctype, ctitle, cver;
  // Engaged time: only while visible and focused, sent as a cumulative total.
  // off: the page is going away (pagehide comes before the last visibilitychange).
  let eng = 0, since = 0, sent = 0, depth = 0, off = 0;
  const tick = () => {
    const t = now();
    if (since) eng += t - since;
    since = !off && d.visibilityState == 'visible' && d.hasFocus() ? t : 0;
  };
  const engage = () => {
    tick();
    if (eng > sent) {
      sent = eng;
      event('engage', { content_id: cid, content_type: ctype, content_version: cver, engaged_ms: eng });
    }
  };
  const content = (id, type, title, version, quiet) => {
    if (cid != null) engage();
    cid = id;
    ctype = type || 'page';
    ctitle = title || d.title;
    cver = version || '';
    eng = sent = depth = 0;
    tick();
    if (!quiet) event('view', { content_id: cid, content_type: ctype, title: ctitle, content_version: cver });
  };

  const consent = yes => {
    granted = !!yes;
    try { st.setItem('_bcn_c', yes ? '1' : '0'); } catch (x) { /* memory only */ }
    if (yes) { keep(); flush(); retry(); } else {
      pend.length = oq.length = 0;
      ['_bcn_vid', '_bcn_s', '_bcn_t', '_bcn_q'].forEach(k => { try { st.removeItem(k); } catch (x) { /* ignore */ } });
      d.cookie = '_bcn_v=;path=/;max-age=0';
    }
  };

  const api = {
    version: VERSION,
    get visitorId() { return vid; },
    event,
    flush: () => flush(),
    hook: fn => hooks.push(fn),
    listen: fn => ls.push(fn),
    consent,
    content: (id, type, title, version) => content(id, type, title, version),
    track: (name, props) => {
      const p = {};
      let n = 0;
      for (const k in props) if (n++ < 20) p[cut(k, 64)] = cut(props[k], 256);
      return event('custom', { content_id: cid, content_type: ctype, content_version: cver, name, props: p });
    },
    // search: what was searched, how many results it showed, and the content_id of the
    // result opened from it (call again with it when the person clicks one). A count that
    // is not a number >= 0 sends nothing: the collector would refuse the event.
    search: (q, n, clicked) => {
      n = Math.floor(+n);
      if (!(n >= 0) || q == null || !(q = String(q).trim())) return '';
      return event('search', { query: q, results: Math.min(n, 1e6), clicked: clicked == null ? '' : String(clicked) });
    },
    // complete: the page's content (or id) was completed, e.g. a course or its test; score
    // 0..100 and passed are sent when given (a score out of range is left out).
    complete: (id, r) => {
      if (id && typeof id == 'object') { r = id; id = null; }
      r = r || {};
      const sc = +r.score;
      return event('complete', {
        content_id: id || cid, content_type: id ? r.type : ctype, content_version: id ? r.version : cver,
        score: r.score != null && sc >= 0 && sc <= 100 ? sc : null, passed: typeof r.passed == 'boolean' ? r.passed : null,
      });
    },
  };

  keep();
  [].forEach.call(w, f => kids.forEach(org => give(f, org)));
  if (w.parent != w && pars.length) {
    hold = 1;
    pars.forEach(org => w.parent.postMessage({ beacon: 'ask' }, org));
    setTimeout(() => { hold = 0; flush(); }, 1000);
  }
  // Listeners queued before the script loaded see the page view too.
  (o.q || []).forEach(c => { if (c[0] == 'listen') ls.push(c[1]); });
  content(o.content_id || loc.pathname, o.content_type, o.title, o.content_version, o.auto === false);

  on(d, 'visibilitychange', () => { if (d.visibilityState == 'hidden') { engage(); flush(1); } else tick(); });
  on(w, 'pagehide', () => {
    // keepalive requests outlive the page like beacons do: do not resend them
    // from the next page (that would only duplicate them); others are cut, keep them.
    oq.filter(it => fly[it.k] == 2).forEach(done);
    off = 1;
    engage();
    flush(2);
  });
  on(w, 'pageshow', e => { if (e.persisted) { off = 0; tick(); } });
  on(w, 'focus', tick);
  on(w, 'blur', tick);
  on(w, 'online', () => { wait = 0; retry(); });
  setInterval(() => { try { engage(); } catch (x) { /* ignore */ } }, hb);

  // Scroll depth: bottom of the viewport as a share of the page, sent at milestones.
  on(w, 'scroll', () => {
    const h = d.documentElement.scrollHeight;
    const p = h > 0 ? ((w.scrollY + w.innerHeight) / h) * 100 : 100;
    const m = [100, 90, 75, 50, 25].find(x => p >= x - 0.5) || 0;
    if (m > depth) {
      depth = m;
      event('scroll', { content_id: cid, content_type: ctype, content_version: cver, depth: m });
    }
  });

  // Links: outbound clicks and downloads. Tracked /l/ links of the collector are
  // left alone: the collector records them when it redirects.
  const lk = e => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a) return;
    const u = new URL(a.href, loc.href);
    if (!/^https?:$/.test(u.protocol)) return;
    if (u.origin == new URL(url, loc.href).origin && u.pathname.indexOf('/l/') == 0) return;
    const action = a.hasAttribute('download') || DL.test(u.pathname) ? 'download' : u.host != loc.host ? 'outbound' : '';
    if (!action) return;
    event('click', { content_id: cid, content_type: ctype, content_version: cver, action, href: u.href, name: (a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 100) });
    flush(1);
  };
  on(d, 'click', lk, 1);
  on(d, 'auxclick', lk, 1);

  retry();
  return api;
}

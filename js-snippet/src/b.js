// IIFE entry for the script tag:
// <script async src="https://collector/b.js" data-site="KEY"></script>
// Optional data attributes: endpoint, cookieless, consent="required", dnt="ignore",
// auto="off" (no automatic page view), content-id, content-type, title, content-version,
// heartbeat, flush (ms),
// frames, parents (origins to hand the partner token to / take it from, see core.js).
import { createTracker } from './core.js';

(() => {
  try {
    const s = document.currentScript;
    const a = n => s && s.getAttribute('data-' + n);
    if (!a('site') || (window.beacon && window.beacon.event)) return;
    // Calls made before the script loaded: window.beacon = {q: [['track', 'x', {}], ...]}.
    const q = (window.beacon && window.beacon.q) || [];
    const t = createTracker({
      q,
      site: a('site'),
      endpoint: a('endpoint') || new URL(s.src).origin,
      cookieless: a('cookieless') != null,
      consent: a('consent'),
      dnt: a('dnt'),
      auto: a('auto') != 'off',
      content_id: a('content-id'),
      content_type: a('content-type'),
      title: a('title'),
      content_version: a('content-version'),
      heartbeat: a('heartbeat'),
      flush: a('flush'),
      frames: a('frames'),
      parents: a('parents'),
    });
    window.beacon = t;
    q.forEach(c => { try { if (c[0] != 'listen') t[c[0]](...c.slice(1)); } catch (x) { /* ignore */ } });
    document.dispatchEvent(new Event('beacon:ready'));
  } catch (x) { /* never break the page */ }
})();

// PDF.js document adapter: listens on the viewer's EventBus (pagesloaded,
// pagechanging) and sends per-page dwell as increments, counted only while the
// page is visible; the furthest page and page count; completion on the last page.
import { on } from '../on.js';

/**
 * trackPdf(tracker, eventBus, { id, title, version, interval })
 * eventBus: PDFViewerApplication.eventBus or the EventBus given to a PDFViewer.
 */
export function trackPdf(t, bus, o = {}) {
  const d = document;
  const meta = { content_id: o.id, content_type: 'document', title: o.title || '' };
  if (o.version) meta.content_version = o.version;
  // off: the page is going away (pagehide comes before the last visibilitychange).
  let cur = 0, first = 1, n = 0, far = 0, acc = 0, since = 0, done = 0, off = 0;
  const tick = () => {
    const x = Date.now();
    if (since) acc += x - since;
    since = !off && d.visibilityState == 'visible' ? x : 0;
  };
  // emit sends the dwell of the current page since its previous beacon; a page
  // being left is always reported so the furthest page is known even at 0 ms.
  const emit = leaving => {
    tick();
    if (cur && (acc > 0 || leaving)) t.event('page', Object.assign({ page: cur, page_count: n, dwell_ms: Math.round(acc) }, meta));
    acc = 0;
  };
  const go = p => {
    if (p == cur) return;
    emit(1);
    cur = p;
    if (p > far) far = p;
    if (n && far >= n && !done) { done = 1; t.event('complete', meta); }
  };
  bus.on('pagesloaded', e => {
    n = e.pagesCount;
    t.event('view', Object.assign({ page_count: n }, meta));
    go(first);
  });
  bus.on('pagechanging', e => { if (n) go(e.pageNumber); else first = e.pageNumber; });
  on(d, 'visibilitychange', tick);
  setInterval(() => emit(), o.interval || 15000);
  on(window, 'pageshow', e => { if (e.persisted) { off = 0; tick(); } });
  t.hook(u => { if (u) { off = u > 1; emit(); } });
  return { get page() { return cur; }, get furthest() { return far; }, get pages() { return n; } };
}

// Minimal hosted PDF viewer: viewer/?file=<pdf url>&cid=<content id>[&title=..][&site=..][&v=<content version>]
// It loads the core snippet (without its own page view: the document view is
// the view), renders the PDF with pdfjs-dist's PDFViewer and tracks it with the
// PDF adapter.
import { pdfjsLib } from './pdfjs-global.js';
import { EventBus, PDFViewer, PDFLinkService } from 'pdfjs-dist/web/pdf_viewer.mjs';
import { trackPdf } from '../src/adapters/pdf.js';

const q = new URLSearchParams(location.search);
const $ = id => document.getElementById(id);
const file = q.get('file'), cid = q.get('cid');

// core loads the snippet with this page's settings and resolves to window.beacon. Beacons
// go to the collector that serves the snippet (no endpoint from the URL: the batches may
// carry a partner token). Embedded in a page of another origin, the snippet asks the
// parent for its partner token and takes it only from this origin and the origins in
// <html data-parents="https://portal.example.com ..."> (the deployment's list).
const core = () => new Promise(resolve => {
  if (window.beacon && window.beacon.event) return resolve(window.beacon);
  document.addEventListener('beacon:ready', () => resolve(window.beacon), { once: true });
  const s = document.createElement('script'), h = document.documentElement.dataset;
  s.src = new URL('../b.js', import.meta.url).href;
  s.dataset.site = q.get('site') || h.site || 'demo';
  s.dataset.auto = 'off';
  s.dataset.contentId = cid;
  s.dataset.contentType = 'document';
  if (q.get('v')) s.dataset.contentVersion = q.get('v');
  s.dataset.parents = location.origin + ' ' + (h.parents || '');
  for (const k of ['flush', 'heartbeat', 'consent', 'dnt']) if (q.get(k)) s.dataset[k] = q.get(k);
  if (q.has('cookieless')) s.dataset.cookieless = '';
  document.head.append(s);
});

async function main() {
  if (!file || !cid) {
    $('msg').textContent = 'usage: ?file=<pdf url>&cid=<content id>';
    return;
  }
  pdfjsLib.GlobalWorkerOptions.workerSrc = new URL('pdf.worker.min.mjs', import.meta.url).href;
  const bus = new EventBus();
  const links = new PDFLinkService({ eventBus: bus });
  const viewer = new PDFViewer({ container: $('c'), eventBus: bus, linkService: links });
  links.setViewer(viewer);
  bus.on('pagesinit', () => { viewer.currentScaleValue = 'page-width'; });
  bus.on('pagechanging', e => { $('page').value = e.pageNumber; });
  $('prev').onclick = () => viewer.previousPage();
  $('next').onclick = () => viewer.nextPage();
  $('page').onchange = e => { viewer.currentPageNumber = +e.target.value || 1; };

  const doc = await pdfjsLib.getDocument({ url: new URL(file, location.href).href }).promise;
  let title = q.get('title');
  if (!title) try { title = (await doc.getMetadata()).info.Title; } catch (x) { /* untitled */ }
  document.title = title || cid;
  $('n').textContent = doc.numPages;
  const b = await core();
  window.beaconDoc = trackPdf(b, bus, { id: cid, title: title || '', version: q.get('v') || '', interval: +q.get('interval') || undefined });
  viewer.setDocument(doc);
  links.setDocument(doc);
  window.pdfViewer = viewer;
}

main().catch(e => { $('msg').textContent = 'cannot open the document: ' + e.message; });

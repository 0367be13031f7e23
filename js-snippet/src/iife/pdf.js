// <script src="pdf.js"> exposes beacon.pdf(eventBus, {id, title, version}) and attaches by
// itself to the stock PDF.js viewer (PDFViewerApplication) when the page has
// <meta name="beacon:content-id" content="..."> (and <meta name="beacon:content-version">).
import { trackPdf } from '../adapters/pdf.js';
import { ready } from '../iife-adapter.js';

ready(b => {
  b.pdf = (bus, o) => trackPdf(b, bus, o);
  const m = document.querySelector('meta[name="beacon:content-id"]');
  const v = document.querySelector('meta[name="beacon:content-version"]');
  const app = window.PDFViewerApplication;
  if (m && app && app.initializedPromise) app.initializedPromise.then(() => trackPdf(b, app.eventBus, { id: m.content, title: document.title, version: v ? v.content : '' }));
});

// The hosted viewer embedded in a page of another origin (a partner portal of the
// content owner's own), in real Chromium: the page hands its partner token to the viewer
// with postMessage, so the document's events carry the token of the person who came
// through the link; a second person through their own link in the same browser replaces
// it, in the page and in the viewer. The portal is served as http://localhost:<port>, the
// collector (snippet and viewer) as http://127.0.0.1:<port>: two sites, so the frame's
// storage is partitioned as on real separate domains. And what must not happen: a token
// handed to a frame whose origin the page does not trust, or taken by a viewer from a
// page its deployment does not list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until } from './helpers.mjs';

// Tokens as the collector mints them (<payload>.<mac>, base64url); the stand-in does not verify.
const T1 = 'MR9kZW1vH2FjbWUfYW5u.bWFjLWFubg', T2 = 'MR9kZW1vH2FjbWUfYm9i.bWFjLWJvYg';
const links = {};
let srv, br, portal;
before(async () => {
  srv = await startServer({ links });
  portal = `http://localhost:${new URL(srv.base).port}`;
  srv.viewerParents = portal;
  br = await launch();
});
after(async () => { await br?.close(); await srv?.close(); });

const portalURL = (cid, c = srv.base, at = portal, b = c) => `${at}/test/portal.html?c=${encodeURIComponent(c)}&b=${encodeURIComponent(b)}&cid=${cid}`;
const from = (cid, where) => srv.events().filter(e => e.content_id === cid && e._batch.url.includes(where));
// the portal page's own events, on the portal that shows document cid
const portalOf = cid => srv.events().filter(e => e.content_id === 'portal' && e._batch.url.includes(`cid=${cid}`));
const viewerFrame = page => page.frames().find(f => f.url().includes('/viewer/'));

test('portal on another origin: the viewer is credited to the person who came through the link, then to the next one', async () => {
  links[T1] = links[T2] = portalURL('doc-embed');
  const page = await br.ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));

  // Person 1 (ann) through her link.
  await page.goto(`${srv.base}/l/${T1}`);
  await page.waitForURL(u => u.href.startsWith(portal) && !u.href.includes('pb_t'));
  await until('ann: the document view from the viewer', () => from('doc-embed', '/viewer/').some(e => e.type === 'view' && e.page_count === 6));
  await until('ann: page 1 dwell', async () => {
    await viewerFrame(page).evaluate(() => { if (window.pdfViewer.currentPageNumber === 1) window.pdfViewer.currentPageNumber = 2; });
    return from('doc-embed', '/viewer/').some(e => e.type === 'page' && e.page === 1);
  });
  const ann = from('doc-embed', '/viewer/');
  assert.ok(ann.length >= 2);
  for (const e of ann) assert.equal(e._batch.token, T1, `ann's ${e.type} carries her token`);
  assert.ok(from('portal', 'localhost').every(e => e._batch.token === T1), "ann's portal page view carries her token");
  assert.equal(await page.evaluate(() => localStorage.getItem('_bcn_t')), T1);
  // The viewer, a cross-site frame, may not use storage here (Chromium blocks third-party
  // storage: 'Access is denied'), so it holds the token in memory and is handed it again
  // at every load.
  await assert.rejects(viewerFrame(page).evaluate(() => localStorage.getItem('_bcn_t')), /denied/);
  // Without storage the viewer would be a new anonymous device at every load: it takes the
  // portal's device and session with the token.
  const annVisitor = from('portal', 'localhost')[0]._batch.visitor_id;
  for (const e of ann) assert.deepEqual([e._batch.visitor_id, e._batch.session_id], [annVisitor, from('portal', 'localhost')[0]._batch.session_id], "the viewer's events are the portal's device and session");

  // Ann leaves: her last page's dwell goes on pagehide.
  await page.goto('about:blank');
  await until("ann's page 2 dwell", () => from('doc-embed', '/viewer/').some(e => e.type === 'page' && e.page === 2));
  assert.ok(from('doc-embed', '/viewer/').every(e => e._batch.token === T1), "all of ann's document events carry her token");

  // Person 2 (bob), same browser, through his own link: credited as himself everywhere.
  const n = srv.events().length;
  await page.goto(`${srv.base}/l/${T2}`);
  await page.waitForURL(u => u.href.startsWith(portal) && !u.href.includes('pb_t'));
  const bobs = () => srv.events().slice(n).filter(e => e.content_id === 'doc-embed');
  await until('bob: the document view from the viewer', () => bobs().some(e => e.type === 'view'));
  await until('bob: page 1 dwell', async () => {
    await viewerFrame(page).evaluate(() => { if (window.pdfViewer.currentPageNumber === 1) window.pdfViewer.currentPageNumber = 3; });
    return bobs().some(e => e.type === 'page' && e.page === 1);
  });
  for (const e of bobs()) assert.equal(e._batch.token, T2, `bob's ${e.type} carries his token, not ann's`);
  assert.ok(from('portal', 'localhost').filter(e => e._batch.visitor_id === annVisitor).length >= 2, "same browser: the portal's device id is ann's");
  assert.ok(bobs().every(e => e._batch.visitor_id === annVisitor), 'same device in the viewer too: only the token tells the two people apart');
  assert.equal(await page.evaluate(() => localStorage.getItem('_bcn_t')), T2, 'the page replaced the older token');
  await page.close();
  assert.deepEqual(errors, []);
});

test('no token to a frame the page does not trust, none taken from a page the viewer does not list', async () => {
  const page = await br.ctx.newPage();
  // The page holds a token and embeds the viewer from an origin it was not told to trust
  // (the page and its snippet are 127.0.0.1's, the viewer localhost's): it must not answer,
  // though the viewer asks (its deployment lists the page).
  await page.goto(`${srv.base}/test/plain.html?pb_t=${T1}`);
  await page.waitForURL(u => !u.href.includes('pb_t'));
  srv.viewerParents = srv.base;
  await page.goto(portalURL('doc-untrusted-frame', portal, srv.base, srv.base));
  await until('the untrusted frame\'s document view', () => from('doc-untrusted-frame', '/viewer/').some(e => e.type === 'view'));
  await until('the page\'s own view', () => portalOf('doc-untrusted-frame').length);
  assert.ok(portalOf('doc-untrusted-frame').every(e => e._batch.token === T1 && e._batch.url.startsWith(srv.base)), 'the page itself has the token');
  for (const e of from('doc-untrusted-frame', '/viewer/')) assert.equal(e._batch.token, undefined, `the frame's ${e.type} has no token`);

  // A page the viewer's deployment does not list offers its token: the viewer ignores it.
  srv.viewerParents = '';
  links[T2] = portalURL('doc-unlisted-parent');
  await page.goto(`${srv.base}/l/${T2}`);
  await until('the viewer\'s document view', () => from('doc-unlisted-parent', '/viewer/').some(e => e.type === 'view'));
  // The page's own script offers a token in the snippet's message shape; then a page change
  // makes the viewer send again.
  await page.evaluate(t => document.querySelector('iframe').contentWindow.postMessage({ beacon: 'token', token: t }, '*'), T2);
  await viewerFrame(page).evaluate(() => { window.pdfViewer.currentPageNumber = 2; });
  await until('the viewer\'s page 1 dwell', () => from('doc-unlisted-parent', '/viewer/').some(e => e.type === 'page' && e.page === 1));
  await until('the page\'s own view', () => portalOf('doc-unlisted-parent').length);
  assert.ok(portalOf('doc-unlisted-parent').every(e => e._batch.token === T2 && e._batch.url.startsWith(portal)), 'the page has the token');
  for (const e of from('doc-unlisted-parent', '/viewer/')) assert.equal(e._batch.token, undefined, `the viewer's ${e.type} has no token`);
  srv.viewerParents = portal;
  await page.close();
});

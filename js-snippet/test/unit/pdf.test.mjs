import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { trackPdf } from '../../src/adapters/pdf.js';
import { advance, fakeTracker } from './standins.mjs';

// A document and window with just what the adapter touches.
function fakeDom() {
  const ls = {};
  const target = { addEventListener: (type, fn) => (ls[type] ||= []).push(fn) };
  const doc = { ...target, visibilityState: 'visible' };
  const fire = (type, e = {}) => (ls[type] || []).forEach(fn => fn(e));
  return { doc, win: target, fire, setVisible(v) { doc.visibilityState = v ? 'visible' : 'hidden'; fire('visibilitychange'); } };
}
// An EventBus like PDF.js's: on(name, fn), dispatch(name, data).
function fakeBus() {
  const ls = {};
  return { on: (n, fn) => (ls[n] ||= []).push(fn), dispatch: (n, d) => (ls[n] || []).forEach(fn => fn(d)) };
}

let dom;
beforeEach(() => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1000 });
  dom = fakeDom();
  globalThis.document = dom.doc;
  globalThis.window = dom.win;
});
afterEach(() => { mock.timers.reset(); delete globalThis.document; delete globalThis.window; });

const pages = t => t.evs.map(e => e.type === 'page' ? ['page', e.page, e.dwell_ms] : [e.type]);

test('pdf: dwell counts only while visible, increments, furthest page, complete once', () => {
  const t = fakeTracker(), bus = fakeBus();
  const doc = trackPdf(t, bus, { id: 'doc-1', title: 'Guide', interval: 15000 });
  bus.dispatch('pagechanging', { pageNumber: 1 });     // before pagesloaded: remembered
  bus.dispatch('pagesloaded', { pagesCount: 4 });
  advance(mock, 2000);
  dom.setVisible(false);
  advance(mock, 5000);                               // hidden: not counted
  dom.setVisible(true);
  advance(mock, 1000);
  bus.dispatch('pagechanging', { pageNumber: 2 });      // page 1: 3000
  advance(mock, 16000);                              // heartbeat 15 s after start: 7000 on page 2
  bus.dispatch('pagechanging', { pageNumber: 4 });      // page 2: the last 9000; then complete
  advance(mock, 500);
  bus.dispatch('pagechanging', { pageNumber: 3 });      // back: no second complete
  advance(mock, 700);
  t.flushHooks(2);                                      // pagehide
  dom.setVisible(false);                                // the visibilitychange after pagehide
  t.flushHooks(1);
  advance(mock, 30000);                              // no heartbeat after leaving
  assert.deepEqual(pages(t), [
    ['view'], ['page', 1, 3000], ['page', 2, 7000], ['page', 2, 9000], ['complete'], ['page', 4, 500], ['page', 3, 700],
  ]);
  assert.deepEqual(t.evs[0], { type: 'view', content_id: 'doc-1', content_type: 'document', title: 'Guide', page_count: 4 });
  assert.ok(t.evs.filter(e => e.type === 'page').every(e => e.content_id === 'doc-1' && e.page_count === 4));
  assert.deepEqual([doc.page, doc.furthest, doc.pages], [3, 4, 4]);
});

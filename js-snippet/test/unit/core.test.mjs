// The core on a fake page (a mocked clock and just the DOM it touches):
// engaged time counts only while visible and focused, heartbeats are
// cumulative, the partner token is captured and stripped, retries follow the
// collector's answers.
import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core.js';
import { advance } from './standins.mjs';

function target() {
  const ls = {};
  return {
    addEventListener: (t, fn) => (ls[t] ||= []).push(fn),
    fire: (t, e = {}) => (ls[t] || []).forEach(fn => fn(e)),
  };
}
function storage() {
  const m = new Map();
  return { getItem: k => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: k => m.delete(k), m };
}

let page, posts, answer;
const saved = {};
const globals = ['window', 'document', 'navigator', 'location', 'history', 'fetch'];

function install(href) {
  const w = { ...target(), localStorage: storage(), sessionStorage: storage(), scrollY: 0, innerHeight: 800 };
  const d = { ...target(), visibilityState: 'visible', focus: true, hasFocus() { return this.focus; }, cookie: '', referrer: 'https://mail.example.com/', title: 'T',
    documentElement: { scrollHeight: 800 } };
  const replaced = [];
  const loc = { href, pathname: new URL(href).pathname, host: new URL(href).host };
  w.fetch = (url, o) => { posts.push({ url, body: JSON.parse(o.body), keepalive: o.keepalive }); return Promise.resolve({ status: answer() }); };
  const vals = { window: w, document: d, navigator: { onLine: true }, location: loc,
    history: { state: null, replaceState: (s, t, u) => { replaced.push(u); loc.href = new URL(u, loc.href).href; } }, fetch: w.fetch };
  for (const g of globals) Object.defineProperty(globalThis, g, { value: vals[g], configurable: true, writable: true });
  return { w, d, replaced };
}

beforeEach(() => {
  for (const g of globals) saved[g] = Object.getOwnPropertyDescriptor(globalThis, g);
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 1795420800000 });
  posts = [];
  answer = () => 204;
});
afterEach(() => {
  mock.timers.reset();
  for (const g of globals) { if (saved[g]) Object.defineProperty(globalThis, g, saved[g]); else delete globalThis[g]; }
});

const events = () => posts.flatMap(p => p.body.events);
const settle = () => new Promise(r => setImmediate(r));

test('engaged time: only visible and focused, cumulative heartbeats, one last beacon on pagehide', async () => {
  page = install('https://partners.example.com/library/guide');
  createTracker({ site: 'demo', endpoint: 'https://c.example.com', heartbeat: 15000, flush: 1000 });
  advance(mock, 10000);                                  // 10 s engaged
  page.d.focus = false; page.w.fire('blur');
  advance(mock, 7000);                                   // unfocused: heartbeat at 15 s sends 10 s
  page.d.focus = true; page.w.fire('focus');
  advance(mock, 3000);                                   // 13 s
  page.d.visibilityState = 'hidden'; page.d.fire('visibilitychange'); // sends 13 s at once
  advance(mock, 20000);                                  // hidden: nothing (heartbeats at 30 s, 45 s)
  page.d.visibilityState = 'visible'; page.d.fire('visibilitychange');
  advance(mock, 2000);                                   // 15 s
  page.w.fire('pagehide');
  page.d.visibilityState = 'hidden'; page.d.fire('visibilitychange');
  await settle();
  const eng = events().filter(e => e.type === 'engage').map(e => e.engaged_ms);
  assert.deepEqual(eng, [10000, 13000, 15000]);
  assert.deepEqual(events().map(e => e.type), ['view', 'engage', 'engage', 'engage']);
  const v = events()[0];
  assert.deepEqual([v.content_id, v.content_type, v.title], ['/library/guide', 'page', 'T']);
});

test('partner token: captured from pb_t, removed from the URL, kept, sent as token', async () => {
  page = install('https://partners.example.com/landing?utm=mail&pb_t=AbC.dEf#top');
  createTracker({ site: 'demo', endpoint: 'https://c.example.com', flush: 1000 });
  assert.deepEqual(page.replaced, ['/landing?utm=mail#top']);
  assert.equal(page.w.localStorage.getItem('_bcn_t'), 'AbC.dEf');
  advance(mock, 1000);
  await settle();
  const b = posts[0].body;
  assert.equal(posts[0].url, 'https://c.example.com/v1/events');
  assert.equal(b.token, 'AbC.dEf');
  assert.equal(b.url, 'https://partners.example.com/landing?utm=mail#top');
  assert.equal(b.referrer, 'https://mail.example.com/');
  assert.equal(b.v, 1);
  assert.equal(b.sent_at, Date.now());
  assert.match(b.visitor_id, /^[\w-]{21}$/);
  assert.equal(page.w.localStorage.getItem('_bcn_vid'), b.visitor_id);
  assert.match(page.d.cookie, new RegExp(`_bcn_v=${b.visitor_id}`));
});

test('retries: 503 and network errors are retried with backoff, 400 is not', async () => {
  page = install('https://partners.example.com/x');
  const seq = [503, 'net', 204, 400];
  answer = () => { const a = seq.length ? seq.shift() : 204; if (a === 'net') throw new TypeError('failed'); return a; };
  page.w.fetch = globalThis.fetch = (url, o) => {
    posts.push({ url, body: JSON.parse(o.body) });
    try { return Promise.resolve({ status: answer() }); } catch (e) { return Promise.reject(e); }
  };
  const t = createTracker({ site: 'demo', endpoint: 'https://c.example.com', flush: 1000 });
  advance(mock, 1000); await settle();                   // try 1: 503
  assert.equal(JSON.parse(page.w.localStorage.getItem('_bcn_q')).length, 1, 'kept for a retry');
  advance(mock, 2000); await settle();                   // try 2 after 2 s: network error
  advance(mock, 4000); await settle();                   // try 3 after 4 s: 204
  assert.deepEqual(posts.map(p => p.body.events[0].id), Array(3).fill(posts[0].body.events[0].id));
  assert.equal(page.w.localStorage.getItem('_bcn_q'), null, 'queue empty after 204');
  t.track('bad');
  advance(mock, 1000); await settle();                   // 400: dropped
  advance(mock, 120000); await settle();
  assert.equal(posts.filter(p => p.body.events.some(e => e.name === 'bad')).length, 1, 'a 400 is not retried');
  assert.equal(page.w.localStorage.getItem('_bcn_q'), null);
});

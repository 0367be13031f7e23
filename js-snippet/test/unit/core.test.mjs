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
  w.fetch = (url, o) => { posts.push({ url, body: JSON.parse(o.body), keepalive: o.keepalive }); return Promise.resolve({ status: answer(), headers: new Headers() }); };
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
    try { return Promise.resolve({ status: answer(), headers: new Headers() }); } catch (e) { return Promise.reject(e); }
  };
  const t = createTracker({ site: 'demo', endpoint: 'https://c.example.com', flush: 1000 });
  advance(mock, 1000); await settle();                   // try 1: 503
  assert.equal(JSON.parse(page.w.localStorage.getItem('_bcn_q')).length, 1, 'kept for a retry');
  advance(mock, 2000); await settle();                   // try 2 after 1-2 s (jittered): network error
  advance(mock, 4000); await settle();                   // try 3 after 2-4 s: 204
  assert.deepEqual(posts.map(p => p.body.events[0].id), Array(3).fill(posts[0].body.events[0].id));
  assert.equal(page.w.localStorage.getItem('_bcn_q'), null, 'queue empty after 204');
  t.track('bad');
  advance(mock, 1000); await settle();                   // 400: dropped
  advance(mock, 120000); await settle();
  assert.equal(posts.filter(p => p.body.events.some(e => e.name === 'bad')).length, 1, 'a 400 is not retried');
  assert.equal(page.w.localStorage.getItem('_bcn_q'), null);
});

test('partner token to frames: a page answers only its own frames at trusted origins, to that exact origin', async () => {
  page = install('https://portal.example.com/library?pb_t=AbC.dEf');
  const sent = [];
  const frame = origin => ({ postMessage: (m, o) => sent.push({ to: origin, m, o }) });
  const viewer = frame('https://c.example.com'), docs = frame('https://docs.example.com'), other = frame('https://evil.example');
  Object.assign(page.w, { 0: viewer, 1: docs, 2: other, length: 3 });
  const b = createTracker({ site: 'demo', endpoint: 'https://c.example.com/', frames: 'https://docs.example.com', flush: 1000 });
  // offered once at start, to each frame at each trusted origin as the target: the browser
  // delivers a message only where the frame's origin is the target
  const trusted = ['https://c.example.com', 'https://docs.example.com'];
  assert.equal(sent.length, 6);
  assert.ok(sent.every(s => trusted.includes(s.o)), 'never to * or another origin');
  assert.deepEqual(sent.filter(s => s.to === s.o).map(s => [s.to, s.m.token]), [['https://c.example.com', 'AbC.dEf'], ['https://docs.example.com', 'AbC.dEf']]);
  sent.length = 0;
  const ask = (source, origin) => page.w.fire('message', { data: { beacon: 'ask' }, source, origin });
  ask(viewer, 'https://c.example.com');
  ask(docs, 'https://docs.example.com');
  ask(other, 'https://evil.example');                         // not trusted
  ask({ postMessage: () => sent.push('popup') }, 'https://c.example.com'); // trusted origin, not a frame of the page
  const sid = page.w.localStorage.getItem('_bcn_s').split('.')[0];
  assert.deepEqual(sent.map(s => [s.to, s.o, s.m]), [
    ['https://c.example.com', 'https://c.example.com', { beacon: 'token', token: 'AbC.dEf', vid: b.visitorId, sid }],
    ['https://docs.example.com', 'https://docs.example.com', { beacon: 'token', token: 'AbC.dEf', vid: b.visitorId, sid }],
  ]);
});

test('partner token in a frame: asks its parent, takes a well-formed token only from it at a listed origin, replaces the stored one', async () => {
  page = install('https://c.example.com/viewer/index.html');
  page.w.localStorage.setItem('_bcn_t', 'Old.Tok');
  const asked = [];
  const parent = { postMessage: (m, o) => asked.push([m, o]) };
  page.w.parent = parent;
  createTracker({ site: 'demo', endpoint: 'https://c.example.com', parents: 'https://c.example.com https://portal.example.com', flush: 200 });
  assert.deepEqual(asked, [[{ beacon: 'ask' }, 'https://c.example.com'], [{ beacon: 'ask' }, 'https://portal.example.com']]);
  advance(mock, 500);
  await settle();
  assert.equal(posts.length, 0, 'batches wait for the answer');
  const say = (source, origin, token) => page.w.fire('message', { data: { beacon: 'token', token, vid: 'page-visitor', sid: 'page-session' }, source, origin });
  say(parent, 'https://evil.example', 'Evil.Tok');              // origin not listed
  say({}, 'https://portal.example.com', 'Evil.Tok');            // not the parent window
  say(parent, 'https://portal.example.com', '<script>.x');      // not shaped like a token
  say(parent, 'https://portal.example.com', { t: 1 });
  await settle();
  assert.equal(posts.length, 0);
  say(parent, 'https://portal.example.com', 'New.Tok');
  await settle();
  assert.equal(posts.length, 1, 'sent as soon as the token came');
  assert.equal(posts[0].body.token, 'New.Tok');
  assert.equal(page.w.localStorage.getItem('_bcn_t'), 'New.Tok', 'the newer token replaced the stored one');
  assert.deepEqual([posts[0].body.visitor_id, posts[0].body.session_id], ['page-visitor', 'page-session'], "the page's device and session");
});

test('partner token in a frame: without an answer batches go after 1 s with the frame\'s own token', async () => {
  page = install('https://c.example.com/viewer/index.html');
  page.w.localStorage.setItem('_bcn_t', 'Own.Tok');
  page.w.parent = { postMessage: () => {} };
  createTracker({ site: 'demo', endpoint: 'https://c.example.com', parents: 'https://portal.example.com', flush: 200 });
  advance(mock, 900);
  await settle();
  assert.equal(posts.length, 0);
  advance(mock, 100);
  await settle();
  assert.equal(posts.length, 1);
  assert.equal(posts[0].body.token, 'Own.Tok');
});

test('content version on the page events; search and complete with what they carry', async () => {
  install('https://portal.example.com/docs/guide');
  const t = createTracker({ site: 'demo', endpoint: 'https://c.example.com', flush: 1000, content_id: 'guide', content_type: 'document', content_version: '2026.2' });
  t.track('shared');
  assert.equal(t.search('no count', 'many'), '');
  assert.equal(t.search('   ', 3), '');
  t.search(' price  list ', 0);
  t.search('price list', 2.7, 'doc-9');
  t.complete({ score: 40, passed: false });
  t.complete('quiz-2', { score: 100.5, passed: true, type: 'course' });
  t.content('faq-1', 'faq', 'FAQ', 'v3');
  advance(mock, 1000);
  await Promise.resolve();
  const got = events().map(e => [e.type, e.content_id, e.content_version, e.query, e.results, e.clicked, e.score, e.passed]);
  assert.deepEqual(got, [
    ['view', 'guide', '2026.2', undefined, undefined, undefined, undefined, undefined],
    ['custom', 'guide', '2026.2', undefined, undefined, undefined, undefined, undefined],
    ['search', undefined, undefined, 'price  list', 0, undefined, undefined, undefined],
    ['search', undefined, undefined, 'price list', 2, 'doc-9', undefined, undefined],
    ['complete', 'guide', '2026.2', undefined, undefined, undefined, 40, false],
    ['complete', 'quiz-2', undefined, undefined, undefined, undefined, undefined, true], // 100.5: no score
    ['view', 'faq-1', 'v3', undefined, undefined, undefined, undefined, undefined],
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { split, body, bytes, cut } from '../../src/batch.js';

const head = { v: 1, site: 'demo', visitor_id: 'v1', session_id: 's1', url: 'https://example.com/ü', referrer: '' };
const ev = (i, pad = 0) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'custom', ts: 1795420800000, name: 'x', props: { p: 'é'.repeat(pad) } });
const sent = 1795420800500;

test('split keeps order, stays under the byte limit and the event limit', () => {
  const evs = Array.from({ length: 450 }, (_, i) => ev(i, i % 7 === 0 ? 300 : 10));
  for (const max of [1000, 4096, 32768, 65536]) {
    const parts = split(head, evs, max);
    assert.deepEqual(parts.flat(), evs, `max ${max}: every event once, in order`);
    for (const p of parts) {
      assert.ok(p.length >= 1 && p.length <= 100, `max ${max}: ${p.length} events`);
      assert.ok(bytes(body(head, p, sent)) <= max, `max ${max}: ${bytes(body(head, p, sent))} bytes`);
    }
  }
});

test('split fills bodies: the next event would not have fitted', () => {
  const evs = Array.from({ length: 60 }, (_, i) => ev(i, 40));
  const max = 2000;
  const parts = split(head, evs, max);
  assert.ok(parts.length > 1);
  for (let i = 0; i < parts.length - 1; i++)
    assert.ok(bytes(body(head, [...parts[i], parts[i + 1][0]], sent)) > max, `part ${i} could have held one more`);
});

test('split drops an event that cannot fit alone, keeps the rest', () => {
  const big = ev(1, 5000);
  const parts = split(head, [ev(0), big, ev(2)], 4096);
  assert.deepEqual(parts.flat().map(e => e.id), [ev(0).id, ev(2).id]);
});

test('split caps events per body at maxEvents', () => {
  const parts = split(head, Array.from({ length: 250 }, (_, i) => ev(i)), 1 << 20);
  assert.deepEqual(parts.map(p => p.length), [100, 100, 50]);
  assert.deepEqual(split(head, [], 1000), []);
});

test('cut shortens to a UTF-8 byte limit', () => {
  const f = (s, n, want) => assert.equal(cut(s, n), want);
  f('hello', 10, 'hello');
  f('hello', 3, 'hel');
  f('ééé', 4, 'éé');
  f('日本語テキスト', 7, '日本');
  f('😀😀', 5, '😀');
  for (const s of ['a'.repeat(600), 'é'.repeat(600), '日'.repeat(600), '😀'.repeat(600)]) assert.ok(bytes(cut(s, 512)) <= 512);
});

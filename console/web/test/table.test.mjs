// The console's table (src/dom.js) in real Chromium, on more rows than it draws at once:
// the first 100 drawn, more on request, sorting over all of them, and a CSV of every row
// in the order shown; and the Japanese and English strings (src/i18n.js) key for key.
// Bundled here with the project's esbuild, as build.mjs bundles it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { launch, parseCSV } from './helpers.mjs';

const src = join(import.meta.dirname, '..', 'src');
let br, page;

before(async () => {
  const out = buildSync({
    stdin: { contents: "export { table, some } from './dom.js'; export { makeI18n } from './i18n.js';", resolveDir: src },
    bundle: true, format: 'iife', globalName: 'consoleDom', write: false,
  });
  br = await launch();
  page = await br.ctx.newPage();
  await page.setContent('<!doctype html><html><body><main></main></body></html>');
  await page.addScriptTag({ content: out.outputFiles[0].text });
  // 250 rows: id r000..r249, n = (i * 7) % 250 (every value once)
  await page.evaluate(() => {
    const { table, makeI18n } = window.consoleDom;
    const rows = Array.from({ length: 250 }, (_, i) => ({ id: 'r' + String(i).padStart(3, '0'), n: (i * 7) % 250 }));
    document.querySelector('main').append(table({ name: 'big', i18n: makeI18n('en'), rows, cols: [
      { key: 'id', label: 'Id' }, { key: 'n', label: 'N', num: true },
    ] }));
  });
});

after(async () => { await br?.close(); });

const shown = () => page.$$eval('[data-table="big"] tbody tr', trs => trs.map(tr => [...tr.cells].map(td => td.dataset.v)));

test('a long table draws 100 rows, then more on request, and its CSV holds every row', async () => {
  let rows = await shown();
  assert.equal(rows.length, 100);
  assert.deepEqual(rows[0], ['r000', '0']);
  assert.match(await page.textContent('[data-table="big"] .table-more'), /Showing 100 of 250 rows/);

  // sorted by N, descending: the largest of all 250 first, not of the 100 drawn
  await page.click('[data-table="big"] th[data-key="n"] button');
  rows = await shown();
  assert.equal(rows.length, 100);
  assert.deepEqual(rows.slice(0, 2).map(r => r[1]), ['249', '248']);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-table="big"] button.csv')]);
  const csv = parseCSV(readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(csv[0], ['Id', 'N']);
  assert.equal(csv.length, 251);
  assert.deepEqual(csv.slice(1).map(r => r[1]), Array.from({ length: 250 }, (_, i) => String(249 - i)));

  await page.click('[data-table="big"] button.more');
  assert.equal((await shown()).length, 200);
  await page.click('[data-table="big"] button.all');
  rows = await shown();
  assert.equal(rows.length, 250);
  assert.deepEqual(rows.map(r => r[1]), csv.slice(1).map(r => r[1]));
  assert.equal((await page.textContent('[data-table="big"] .table-more')).trim(), '');
});

test('a list cell names the first items and counts the rest', async () => {
  const cell = n => page.evaluate(n => {
    const { some } = window.consoleDom;
    const items = Array.from({ length: n }, (_, i) => 'c' + i);
    const td = document.createElement('td');
    td.append(...some(items, 10, x => Object.assign(document.createElement('span'), { textContent: x }), k => `and ${k} more`).flat(Infinity));
    return td.textContent;
  }, n);
  assert.equal(await cell(3), 'c0, c1, c2');
  assert.equal(await cell(10), 'c0, c1, c2, c3, c4, c5, c6, c7, c8, c9');
  assert.equal(await cell(12), 'c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 2 more');
});

test('Japanese and English name the same strings', async () => {
  // a key one dictionary lacks would show as "undefined" in that language
  const keys = await page.evaluate(() => {
    const { makeI18n } = window.consoleDom;
    const flat = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v, `${p}${k}.`) : [`${p}${k}:${typeof v}`]));
    return { en: flat(makeI18n('en').t).sort(), ja: flat(makeI18n('ja').t).sort() };
  });
  assert.ok(keys.en.length > 100);
  assert.deepEqual(keys.ja, keys.en);
});

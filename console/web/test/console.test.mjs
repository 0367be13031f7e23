// The console in real Chromium: a person signs in, opens every page on the golden
// dataset (console/testdata/golden), and sees the numbers the saved queries answer;
// CSV downloads hold exactly the table shown; another tenant's user sees none of it;
// with ClickHouse stopped the page says which part is unavailable and recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, launch, until, repo } from './helpers.mjs';

let stack, br, page;
const cspErrors = []; // the pages must work under the console's Content-Security-Policy

before(async () => {
  stack = new Stack();
  await stack.start();
  br = await launch();
  page = await br.ctx.newPage();
  page.on('pageerror', e => { throw e; });
  page.on('console', m => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
});

after(async () => {
  await br?.close();
  await stack?.close();
});

// api fetches an API answer with the page's session cookie.
const api = async path => {
  const r = await page.request.get(stack.base + path);
  assert.equal(r.status(), 200, `${path}: ${await r.text()}`);
  return r.json();
};

// tableData reads a table as shown: header labels and each cell's raw value (data-v).
const tableData = (name) => page.$eval(`[data-table="${name}"] table`, t => ({
  head: [...t.querySelectorAll('thead th')].map(th => th.querySelector('button').firstChild.textContent),
  keys: [...t.querySelectorAll('thead th')].map(th => th.dataset.key),
  rows: [...t.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.dataset.v)),
}));

// column returns the raw values of one column of a shown table.
const column = (tbl, key) => tbl.rows.map(r => r[tbl.keys.indexOf(key)]);
const str = v => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

// parseCSV parses the download (RFC 4180, BOM first).
function parseCSV(text) {
  text = text.replace(/^\ufeff/, '');
  const rows = []; let row = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r') { /* skip */ } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  return rows;
}

const kpi = key => page.textContent(`[data-kpi="${key}"] .value`);

test('sign in and see the overview the saved queries answer', async () => {
  await page.goto(stack.base + '/');
  await page.waitForURL(/\/login/);
  await page.fill('input[name=name]', 'ann');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.login [role=alert]:not([hidden])');
  await page.fill('input[name=password]', stack.users.ann);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/t\/acme\/$/);
  await page.waitForSelector('[data-kpi="active_partners"]');
  const saved = stack.query('content-use', { tenant: 'acme' });
  const fromAPI = (await api('/api/t/acme/contents')).rows;
  assert.deepEqual(fromAPI, saved);
  assert.equal(Number(await kpi('active_partners')), saved[0].active_partners);
  assert.equal(saved[0].active_partners, 3); // p1, p2, p3 (faq1 by Eve)
  const used = kinds => saved.filter(r => kinds.includes(r.kind) && r.partners > 0).length;
  assert.equal(Number(await kpi('documents')), used(['document']));
  assert.equal(Number(await kpi('videos')), used(['video']));
  assert.equal(Number(await kpi('tools')), used(['faq', 'tool']));
  // course completion: 2 of 4 assigned people (u1, u3)
  const training = stack.query('training-completion', { tenant: 'acme' });
  const a = training.reduce((s, r) => s + r.assigned, 0), c = training.reduce((s, r) => s + r.completed, 0);
  assert.equal([a, c].join('/'), '4/2');
  await page.waitForSelector('[data-kpi="completion"]');
  assert.equal(await kpi('completion'), '50%');
  // per campaign: the partners that used any of its contents, of all ranked
  await page.waitForSelector('[data-kpi="campaigns"]');
  const camps = stack.query('campaign-ranking', { tenant: 'acme' });
  const ids = [...new Set(camps.map(r => r.campaign_id))];
  assert.equal(Number(await kpi('campaigns')), ids.length);
  for (const id of ids) {
    const rows = camps.filter(r => r.campaign_id === id);
    assert.match(await page.textContent(`[data-campaign="${id}"]`), new RegExp(`: ${rows.filter(r => r.consumed > 0).length} of ${rows.length} partners`));
  }
  // the content table lists what the saved query lists, in its order
  const tbl = await tableData('content-use');
  assert.deepEqual(column(tbl, 'content_id'), saved.map(r => r.content_id));
  assert.deepEqual(column(tbl, 'partners'), saved.map(r => str(r.partners)));
});

test('document page: viewers, per-page reach and dwell, CSV equal to the table', async () => {
  await page.click('nav >> text=Documents');
  await page.waitForSelector('[data-table="documents"]');
  await page.click('[data-table="documents"] >> text=Price list');
  await page.waitForURL(/\/t\/acme\/documents\/doc1$/);
  await page.waitForSelector('[data-table="document-viewers"] tbody tr');
  const saved = stack.query('document-views', { tenant: 'acme', content: 'doc1' });
  const answer = await api('/api/t/acme/documents/doc1');
  assert.deepEqual(answer.rows, saved);
  assert.equal(Number(await kpi('viewers')), saved.length);
  assert.equal(saved.length, 4);
  const viewers = await tableData('document-viewers');
  assert.deepEqual(column(viewers, 'total_dwell_ms'), saved.map(r => str(r.total_dwell_ms)));
  assert.deepEqual(column(viewers, 'first_opened'), saved.map(r => r.first_opened));
  assert.deepEqual(column(viewers, 'dwell_ms_by_page'), saved.map(r => str(r.dwell_ms_by_page)));
  // per page: reached and time, as the API derives them from the same rows
  const pages = await tableData('document-pages');
  assert.deepEqual(pages.rows, answer.pages.map(p => [p.page, p.reached, p.viewers, p.dwell_ms].map(String)));
  assert.deepEqual(column(pages, 'reached'), ['4', '2', '1', '1']);
  assert.ok(await page.$('.chart canvas'), 'the per-page chart is drawn');
  // total time is shown as a duration: 10 s + 6.5 s + 2 s + 0.8 s = 19.3 s
  assert.equal(await kpi('total_time'), await page.evaluate(() => new Intl.DurationFormat('en', { style: 'short' }).format({ seconds: 19 })));

  // sort by time spent, descending, then download: the CSV is the table as shown
  await page.click('[data-table="document-viewers"] th[data-key="total_dwell_ms"] button');
  const sorted = await tableData('document-viewers');
  assert.deepEqual(column(sorted, 'total_dwell_ms'), saved.map(r => r.total_dwell_ms).sort((x, y) => y - x).map(String));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-table="document-viewers"] button.csv')]);
  const csv = parseCSV(readFileSync(await download.path(), 'utf8'));
  assert.equal(download.suggestedFilename(), 'document-viewers.csv');
  assert.deepEqual(csv[0], sorted.head);
  assert.deepEqual(csv.slice(1), sorted.rows);

  // a partner filter, with the tenant's partners suggested: only Alpha's two people
  await until('partner suggestions', async () => (await page.$$('#partner-ids option')).length === 3);
  assert.deepEqual(await page.$$eval('#partner-ids option', os => os.map(o => `${o.value} ${o.textContent}`)), ['p1 Alpha', 'p2 Beta', 'p3 Gamma']);
  await page.fill('input[name=partner]', 'p1');
  await page.click('form.filters button[type=submit]');
  await until('the partner filter', async () => (await tableData('document-viewers')).rows.length === 2);
  assert.deepEqual(column(await tableData('document-viewers'), 'user_name'), ['u1', 'u2']);

  if (process.env.SCREENSHOT_DIR) {
    mkdirSync(process.env.SCREENSHOT_DIR, { recursive: true });
    await page.goto(stack.base + '/t/acme/documents/doc1');
    await page.waitForSelector('.chart canvas');
    await page.locator('main').screenshot({ path: join(process.env.SCREENSHOT_DIR, 'document.png') });
  }
});

test('video page: retention, play rate and drop-off points', async () => {
  await page.goto(stack.base + '/t/acme/videos');
  await page.click('[data-table="videos"] >> text=Product tour');
  await page.waitForSelector('[data-table="video-drop-offs"] tbody tr');
  const saved = stack.query('video-retention', { tenant: 'acme', content: 'vid1' });
  assert.deepEqual((await api('/api/t/acme/videos/vid1')).rows, saved);
  assert.equal(Number(await kpi('loads')), saved[0].loads);
  assert.equal(Number(await kpi('plays')), saved[0].plays);
  assert.equal(await kpi('play_rate'), new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(saved[0].play_rate));
  const drops = saved.filter(r => r.drop_rank > 0).sort((x, y) => x.drop_rank - y.drop_rank);
  assert.ok(drops.length > 0);
  const shown = await tableData('video-drop-offs');
  assert.deepEqual(column(shown, 'second'), drops.map(r => String(r.second)));
  assert.deepEqual(column(shown, 'drop'), drops.map(r => String(r.drop)));
  assert.ok(await page.$('.chart canvas'), 'the retention chart is drawn');
  const every = await tableData('video-retention');
  assert.deepEqual(column(every, 'retention'), saved.map(r => String(r.retention)));
  if (process.env.SCREENSHOT_DIR) await page.locator('main').screenshot({ path: join(process.env.SCREENSHOT_DIR, 'video.png') });
});

test('no Content-Security-Policy violations on the document and video pages', () => {
  assert.deepEqual(cspErrors, []);
});

test('training, campaigns, FAQ and tools equal their saved queries', async () => {
  await page.goto(stack.base + '/t/acme/training');
  await page.waitForSelector('[data-table="training-completion"] tbody tr');
  const training = stack.query('training-completion', { tenant: 'acme' });
  const tt = await tableData('training-completion');
  assert.deepEqual(column(tt, 'completion_rate'), training.map(r => String(r.completion_rate)));
  assert.deepEqual(column(tt, 'assigned'), training.map(r => String(r.assigned)));
  const missing = await tableData('training-not-completed');
  assert.deepEqual(column(missing, 'partner_user_id'), training.flatMap(r => r.not_completed));

  await page.goto(stack.base + '/t/acme/campaigns');
  await page.waitForSelector('[data-table="campaign-ranking"] tbody tr');
  const camps = stack.query('campaign-ranking', { tenant: 'acme' });
  const ct = await tableData('campaign-ranking');
  assert.deepEqual(column(ct, 'partner_id'), camps.map(r => r.partner_id));
  assert.deepEqual(column(ct, 'share'), camps.map(r => String(r.share)));

  await page.goto(stack.base + '/t/acme/tools');
  await page.waitForSelector('[data-table="content-outcomes"] tbody tr');
  const tools = stack.query('content-outcomes', { tenant: 'acme' });
  const ot = await tableData('content-outcomes');
  assert.deepEqual(column(ot, 'content_id'), tools.map(r => r.content_id));
  assert.deepEqual(column(ot, 'deal_correlation'), tools.map(r => str(r.deal_correlation)));

  // an unknown document: a sentence, not an error
  await page.goto(stack.base + '/t/acme/documents/no-such-doc');
  await page.waitForSelector('.empty');
  assert.match(await page.textContent('.empty'), /Nobody has opened this document/);
});

test('Japanese follows the switch', async () => {
  await page.goto(stack.base + '/t/acme/training');
  await page.click('.lang button[lang=ja]');
  await page.waitForSelector('h1:has-text("研修の修了状況")');
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  // dates, numbers and durations in the Japanese locale
  await page.goto(stack.base + '/t/acme/documents/doc1');
  await page.waitForSelector('[data-table="document-viewers"] tbody tr');
  const first = await page.$eval('[data-table="document-viewers"] tbody tr td:nth-child(3)', td => [td.dataset.v, td.textContent]);
  assert.equal(first[1], await page.evaluate(v => new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v)), first[0]));
  assert.equal(await kpi('total_time'), await page.evaluate(() => new Intl.NumberFormat('ja-JP', { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 0 }).format(19)));
  assert.match(await page.textContent('h2 >> nth=0'), /読者が離れるページ/);
  await page.goto(stack.base + '/t/acme/');
  await page.waitForSelector('h1:has-text("概要")');
  await page.click('.lang button[lang=en]');
  await page.waitForSelector('h1:has-text("Overview")');
});

test('a user of another tenant sees nothing of this one', async () => {
  // a second, separate session: a fresh page after signing out
  await page.click('header button.link');
  await page.waitForURL(/\/login/);
  await page.fill('input[name=name]', 'bob');
  await page.fill('input[name=password]', stack.users.bob);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/t\/beta\/$/);
  const resp = await page.goto(stack.base + '/t/acme/documents/doc1');
  assert.equal(resp.status(), 404);
  const r = await page.request.get(stack.base + '/api/t/acme/documents/doc1');
  assert.equal(r.status(), 404);
  // beta's own doc1 has one viewer with 999 ms
  await page.goto(stack.base + '/t/beta/documents/doc1');
  await page.waitForSelector('[data-table="document-viewers"] tbody tr');
  assert.deepEqual(column(await tableData('document-viewers'), 'total_dwell_ms'), ['999']);
});

test('ClickHouse down: the page says which part, and recovers', async () => {
  await page.goto(stack.base + '/t/beta/training');
  await page.waitForSelector('section[data-part="training-completion"] .empty');
  const { stop } = await import('./helpers.mjs');
  await stop(stack.ch);
  await page.goto(stack.base + '/t/beta/training');
  await page.waitForSelector('section[data-part="training-completion"] [role=alert]', { timeout: 30000 });
  assert.match(await page.textContent('section[data-part="training-completion"] [role=alert]'), /ClickHouse is unavailable.*training-completion/);
  await stack.startClickHouse();
  await until('the page to recover', async () => {
    await page.click('section[data-part="training-completion"] [role=alert] button');
    await page.waitForSelector('section[data-part="training-completion"] .empty, section[data-part="training-completion"] [role=alert]', { timeout: 15000 });
    return !(await page.$('section[data-part="training-completion"] [role=alert]'));
  }, 60000);
});

// The console in real Chromium: a person signs in, opens every page on the golden
// dataset (console/testdata/golden), and sees the numbers the saved queries answer;
// CSV downloads hold exactly the table shown; another tenant's user sees none of it;
// with ClickHouse stopped the page says which part is unavailable and recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, launch, until, repo, parseCSV, child, freePort, stop } from './helpers.mjs';

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
const tableData = (name, pg = page) => pg.$eval(`[data-table="${name}"] table`, t => ({
  head: [...t.querySelectorAll('thead th')].map(th => th.querySelector('button').firstChild.textContent),
  keys: [...t.querySelectorAll('thead th')].map(th => th.dataset.key),
  rows: [...t.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.dataset.v)),
}));

// column returns the raw values of one column of a shown table.
const column = (tbl, key) => tbl.rows.map(r => r[tbl.keys.indexOf(key)]);
const str = v => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

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
  // accepted events and active people: tenant-activity's figures
  await page.waitForSelector('[data-kpi="events"]');
  const act = stack.query('tenant-activity', { tenant: 'acme' })[0];
  assert.deepEqual((await api('/api/t/acme/activity')).rows, [act]);
  assert.equal(act.people, 4); // Ann, Bob, Cid and Eve (Dee has no events)
  assert.equal(Number(await kpi('events')), act.events);
  assert.equal(Number(await kpi('people')), act.people);
  assert.equal(Number(await kpi('bot_events')), act.bot_events);
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

test('a page asks each API call once, and the filter suggestions only when a field is focused', async () => {
  const asked = [];
  const onRequest = req => {
    const u = new URL(req.url());
    if (u.pathname.startsWith('/api/t/')) asked.push(u.pathname + u.search);
  };
  page.on('request', onRequest);
  try {
    // the overview shows content-use in two sections: one request
    await page.goto(`${stack.base}/t/acme/`);
    await page.waitForSelector('[data-table="content-use"]');
    await page.waitForSelector('section[data-part="partner-activity"] .legend');
    const count = path => asked.filter(x => x === path).length;
    assert.equal(count('/api/t/acme/contents'), 1, asked.join(' '));
    // the quiet partners: the partner rows without stopped contents (stopped=0 is sent)
    assert.equal(count('/api/t/acme/partners?level=partner&stopped=0'), 1, asked.join(' '));
    // the partners page: the partner rows only (it lists no person)
    asked.length = 0;
    await page.goto(`${stack.base}/t/acme/partners?period=custom&from=2026-03-07&to=2026-03-13&baseline_weeks=1`);
    await page.waitForSelector('[data-table="partner-activity"] tbody tr');
    assert.deepEqual(asked.filter(x => x.startsWith('/api/t/acme/partners')), ['/api/t/acme/partners?from=2026-03-07&to=2026-03-13&baseline_weeks=1&level=partner']);
    // the document page: no campaign ranking for the suggestions until a field is focused
    asked.length = 0;
    await page.goto(`${stack.base}/t/acme/documents/doc1`);
    await page.waitForSelector('[data-table="document-viewers"] tbody tr');
    await page.waitForSelector('section[data-part="content-reach"] .body :not(.loading)');
    assert.equal(count('/api/t/acme/campaigns'), 0, asked.join(' '));
    await page.focus('input[name=partner]');
    await until('partner suggestions', async () => (await page.$$('#partner-ids option')).length === 3);
    assert.equal(count('/api/t/acme/campaigns'), 1, asked.join(' '));
  } finally {
    page.off('request', onRequest);
  }
});

test('overview: accepted events and active people against the period before', async () => {
  await page.goto(`${stack.base}/t/acme/?period=custom&from=2026-03-04&to=2026-03-06`);
  await page.waitForSelector('[data-kpi="events"]');
  const act = stack.query('tenant-activity', { tenant: 'acme', from: '2026-03-04', to: '2026-03-06' })[0];
  assert.deepEqual((await api('/api/t/acme/activity?from=2026-03-04&to=2026-03-06')).rows, [act]);
  assert.ok(act.events > 0 && act.events_before > 0, JSON.stringify(act));
  assert.equal(Number(await kpi('events')), act.events);
  assert.equal(Number(await kpi('people')), act.people);
  const words = (now, before) => (now > before ? `▲ ${now - before} more` : now < before ? `▼ ${before - now} fewer` : '= no change') + ` vs the previous period (${before})`;
  assert.equal(await page.textContent('[data-kpi="events"] .delta'), words(act.events, act.events_before));
  assert.equal(await page.textContent('[data-kpi="people"] .delta'), words(act.people, act.people_before));
  // a period without events: a sentence, not zeros or NaN
  await page.goto(`${stack.base}/t/acme/?period=custom&from=2030-01-01&to=2030-01-31`);
  await page.waitForSelector('section[data-part="tenant-activity"] .empty');
  assert.match(await page.textContent('section[data-part="tenant-activity"] .empty'), /No events in this period/);
  await page.goto(`${stack.base}/t/acme/`); // the next test starts from the overview of all time
  await page.waitForSelector('[data-kpi="events"]');
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
  assert.equal(await page.$('[data-note="truncated"]'), null, 'all four viewers are listed: no note');
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
  await page.focus('input[name=partner]');
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

test('a document with more viewers than the console lists says its figures cover the first ones', async () => {
  // a second console on the same data that lists at most 2 viewers, in a browser of its own
  // (the session cookie is per host, not per port)
  const port = await freePort();
  const second = child(stack.bin, ['console', `-console.listenAddr=127.0.0.1:${port}`, `-console.users=${join(stack.work, 'users.json')}`,
    `-clickhouse.addr=${stack.chAddr}`, '-console.maxRows=2'], 'console-2-rows');
  const b2 = await launch();
  try {
    const base = `http://127.0.0.1:${port}`;
    await until('the second console to answer', async () => {
      if (second.exitCode !== null) throw new Error(`console exited:\n${second.log}`);
      return (await fetch(`${base}/api/health`)).ok;
    }, 30000);
    const p = await b2.ctx.newPage();
    await p.goto(base + '/login');
    await p.fill('input[name=name]', 'ann');
    await p.fill('input[name=password]', stack.users.ann);
    await p.click('button[type=submit]');
    await p.waitForURL(/\/t\/acme\/$/);
    await p.goto(base + '/t/acme/documents/doc1');
    await p.waitForSelector('[data-table="document-viewers"] tbody tr');
    const saved = stack.query('document-views', { tenant: 'acme', content: 'doc1', limit: '2' });
    assert.equal(saved.length, 2);
    assert.equal(await p.textContent('[data-kpi="viewers"] .value'), '2+');
    assert.equal(await p.textContent('[data-note="truncated"]'),
      'The console lists at most 2 viewers of a document: the figures, the chart and the table below cover the first 2, by first open, and there may be more.');
    // the table holds those first two, as the saved query answers them
    const shown = await tableData('document-viewers', p);
    assert.deepEqual(column(shown, 'total_dwell_ms'), saved.map(r => str(r.total_dwell_ms)));
    assert.deepEqual(column(shown, 'first_opened'), saved.map(r => r.first_opened));
  } finally {
    await b2.close();
    await stop(second);
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

test('video page: who watched it, and each viewer’s own heatmap with replays marked', async () => {
  await page.goto(stack.base + '/t/acme/videos/vid1');
  await page.waitForSelector('[data-table="video-viewers"] tbody tr');
  const viewers = stack.query('video-viewers', { tenant: 'acme', content: 'vid1' });
  assert.deepEqual((await api('/api/t/acme/videos/vid1/viewers')).rows, viewers);
  assert.equal(viewers.length, 4); // Ann, Bob (loaded only), Cid, the anonymous a1
  const vt = await tableData('video-viewers');
  for (const key of ['viewer', 'first_seen', 'last_seen', 'seconds_watched', 'furthest', 'completion', 'ended']) {
    assert.deepEqual(column(vt, key), viewers.map(r => str(r[key])), key);
  }
  // Cid (u3) played 0-4 s, then 2-4 s again: seconds 2 and 3 replayed
  await page.click('[data-table="video-viewers"] button[data-viewer="u:u3"]');
  await page.waitForSelector('[data-heatmap="u:u3"]');
  const secs = stack.query('viewer-seconds', { tenant: 'acme', content: 'vid1', person: 'u3' });
  assert.deepEqual((await api('/api/t/acme/videos/vid1/seconds?person=u3')).rows, secs);
  assert.deepEqual(secs.filter(x => x.replayed).map(x => x.second), [2, 3]);
  assert.match(await page.textContent('[data-heatmap="u:u3"]'), /Cid/);
  assert.equal(Number(await kpi('heat_watched')), secs.filter(x => x.plays > 0).length);
  assert.equal(Number(await kpi('heat_replayed')), secs.filter(x => x.replayed).length);
  let st = await tableData('viewer-seconds');
  assert.deepEqual(column(st, 'second'), secs.map(x => String(x.second)));
  assert.deepEqual(column(st, 'plays'), secs.map(x => String(x.plays)));
  assert.deepEqual(column(st, 'replayed'), secs.map(x => String(x.replayed)));
  assert.ok(await page.$('.heat .chart canvas'), 'the heatmap is drawn');
  assert.equal(await page.getAttribute('button[data-viewer="u:u3"]', 'aria-pressed'), 'true');
  // the anonymous device by its viewer key: 0-6 s, and 2-4 s again
  await page.click('[data-table="video-viewers"] button[data-viewer="v:a1"]');
  await page.waitForSelector('[data-heatmap="v:a1"]');
  assert.match(await page.textContent('[data-heatmap="v:a1"]'), /Anonymous device a1/, 'an anonymous device is named as one');
  const anon = stack.query('viewer-seconds', { tenant: 'acme', content: 'vid1', viewer: 'v:a1' });
  st = await tableData('viewer-seconds');
  assert.deepEqual(column(st, 'plays'), anon.map(x => String(x.plays)));
  assert.equal(await page.getAttribute('button[data-viewer="u:u3"]', 'aria-pressed'), 'false');
  await page.click('.heat details summary'); // the table of every second is folded
  const csv = await downloadCSV('viewer-seconds');
  assert.deepEqual(csv.slice(1), st.rows);
  // Bob loaded the player and played nothing: a sentence
  await page.click('[data-table="video-viewers"] button[data-viewer="u:u2"]');
  await page.waitForSelector('.heat .empty');
  assert.match(await page.textContent('.heat .empty'), /played none of it/);
  if (process.env.SCREENSHOT_DIR) {
    await page.click('[data-table="video-viewers"] button[data-viewer="u:u3"]');
    await page.waitForSelector('.heat .chart canvas');
    await page.locator('section[data-part="video-viewers"]').screenshot({ path: join(process.env.SCREENSHOT_DIR, 'video-heatmap.png') });
  }
  // one of person and viewer, not both or neither: 400 naming person
  for (const q of ['', '?person=u3&viewer=v:a1']) {
    const r = await page.request.get(`${stack.base}/api/t/acme/videos/vid1/seconds${q}`);
    assert.equal(r.status(), 400);
    assert.equal((await r.json()).param, 'person');
  }
  // an unknown video: a sentence
  await page.goto(stack.base + '/t/acme/videos/no-such-video');
  await page.waitForSelector('section[data-part="video-viewers"] .empty');
  assert.match(await page.textContent('section[data-part="video-viewers"] .empty'), /Nobody has loaded this video/);
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
  // by name: Bob (u2) and Dee (u4), as partner_users names them
  assert.deepEqual(await page.$$eval('[data-table="training-not-completed"] tbody a[data-person]', as => as.map(a => a.textContent)),
    training.flatMap(r => r.not_completed).map(id => `${stack.query('directory', { tenant: 'acme' }).find(x => x.id === id).name} ${id}`));

  // test scores follow the course chosen: none yet, a sentence; then the course from the
  // table. Ann failed, then passed (passed); Cid passed, then failed (failed)
  assert.match(await page.textContent('section[data-part="training-scores"] .empty'), /Choose a course/);
  await page.click('[data-table="training-completion"] a[data-course="course1"]');
  await page.waitForURL(/\/t\/acme\/training\?course=course1$/);
  await page.waitForSelector('[data-table="training-scores"] tbody tr');
  assert.equal(await page.inputValue('input[name=course]'), 'course1');
  const scores = stack.query('training-scores', { tenant: 'acme', course: 'course1' });
  const sc = await tableData('training-scores');
  assert.deepEqual(column(sc, 'partner_id'), scores.map(r => r.partner_id));
  for (const k of ['people', 'attempts', 'avg_score', 'min_score', 'passed', 'failed']) assert.deepEqual(column(sc, k), scores.map(r => str(r[k])), k);
  assert.deepEqual(column(sc, 'failed_people'), scores.map(r => r.failed_people.join(' ')));
  assert.deepEqual(scores.map(r => [r.partner_id, r.attempts, r.passed, r.failed]), [['p1', 2, 1, 0], ['p2', 2, 0, 1]]);
  assert.match(await page.textContent('[data-table="training-scores"] tbody tr:nth-child(2)'), /⚠\s*1.*Cid/);

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
  // search gaps: Ann's search that found nothing is marked
  await page.waitForSelector('[data-table="search-gaps"] tbody tr');
  const gaps = stack.query('search-gaps', { tenant: 'acme' });
  const gt = await tableData('search-gaps');
  for (const k of ['partner_id', 'query', 'searches', 'searchers', 'zero_results', 'no_open']) assert.deepEqual(column(gt, k), gaps.map(r => str(r[k])), k);
  assert.ok(gaps.some(r => r.query === 'warranty terms' && r.zero_results === 1), 'the golden data has a search that found nothing');
  // the tools' versions, when opened: Beta moved from v1 of the calculator to v2
  assert.equal(await page.$('[data-table="content-versions"]'), null);
  await page.click('details[data-part="tool-versions"] summary');
  await page.waitForSelector('[data-table="content-versions"] tbody tr');
  const toolVersions = stack.query('content-versions', { tenant: 'acme', kind: 'tool' });
  const tv = await tableData('content-versions');
  for (const k of ['content_id', 'version', 'latest', 'viewers']) assert.deepEqual(column(tv, k), toolVersions.map(r => str(r[k])), k);
  assert.deepEqual(toolVersions.map(r => [r.content_id, r.version, r.latest, r.partners_outdated]), [['tool1', 'v1', 0, []], ['tool1', 'v2', 1, []]]);

  // a document's versions on its page: Alpha still reads v1 of the price list, whose latest is v2
  await page.goto(stack.base + '/t/acme/documents/doc1');
  await page.waitForSelector('[data-table="content-versions"] tbody tr');
  const versions = stack.query('content-versions', { tenant: 'acme', content: 'doc1' });
  const vt = await tableData('content-versions');
  for (const k of ['version', 'latest', 'viewers']) assert.deepEqual(column(vt, k), versions.map(r => str(r[k])), k);
  assert.deepEqual(column(vt, 'partners_outdated'), versions.map(r => r.partners_outdated.join(' ')));
  assert.deepEqual(versions.map(r => [r.version, r.partners_outdated]), [['v1', ['p1']], ['v2', []]]);
  assert.equal(await page.textContent('[data-table="content-versions"] tbody a[data-partner="p1"]'), 'Alpha p1');

  // an unknown document: a sentence, not an error
  await page.goto(stack.base + '/t/acme/documents/no-such-doc');
  await page.waitForSelector('.empty');
  assert.match(await page.textContent('.empty'), /Nobody has opened this document/);
});

// downloadCSV clicks a table's CSV button and returns the parsed file.
async function downloadCSV(name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-table="${name}"] button.csv`)]);
  assert.equal(download.suggestedFilename(), `${name}.csv`);
  return parseCSV(readFileSync(await download.path(), 'utf8'));
}

// The week after the golden events (2026-03-07..13) against a one-week baseline: Alpha
// and Gamma silent, Beta active (tool1 on the 7th).
const WEEK = 'period=custom&from=2026-03-07&to=2026-03-13&baseline_weeks=1';
const weekParams = { tenant: 'acme', to: '2026-03-13', days: 7, baseline_weeks: 1 };

test('partners page: every partner with its status in words, sortable, filterable, CSV equal to the table', async () => {
  await page.goto(`${stack.base}/t/acme/partners?${WEEK}`);
  await page.waitForSelector('[data-table="partner-activity"] tbody tr');
  const saved = stack.query('partner-activity', weekParams);
  assert.deepEqual((await api('/api/t/acme/partners?from=2026-03-07&to=2026-03-13&baseline_weeks=1')).rows, saved);
  const partners = saved.filter(r => r.level === 'partner');
  assert.deepEqual(partners.map(r => `${r.partner_id} ${r.status}`), ['p1 silent', 'p2 active', 'p3 silent']);
  const tbl = await tableData('partner-activity');
  for (const key of ['partner_id', 'status', 'reason', 'last_touch', 'touches', 'days_active', 'expected_days', 'people_active']) {
    assert.deepEqual(column(tbl, key), partners.map(r => str(r[key])), key);
  }
  // the status reads without colour: a shape and the word
  assert.deepEqual(await page.$$eval('[data-table="partner-activity"] tbody [data-status]', els => els.map(e => e.textContent)), ['○ silent', '● active', '○ silent']);
  for (const s of ['active', 'silent', 'cooling', 'never-started']) {
    assert.equal(Number(await kpi(`status-${s}`)), partners.filter(r => r.status.replace(' ', '-') === s).length, s);
  }
  assert.match(await page.textContent('section[data-part="partner-activity"] .legend'), /7 days to Mar 13, 2026.*1-week baseline/);
  // sorted by touches, descending; the CSV is the table as shown
  await page.click('[data-table="partner-activity"] th[data-key="touches"] button');
  const sorted = await tableData('partner-activity');
  assert.deepEqual(column(sorted, 'touches'), partners.map(r => r.touches).sort((x, y) => y - x).map(String));
  const csv = await downloadCSV('partner-activity');
  assert.deepEqual(csv[0], sorted.head);
  assert.deepEqual(csv.slice(1), sorted.rows);
  // the status filter keeps the silent and cooling ones
  await page.selectOption('select[name=status]', 'quiet');
  await page.click('form.filters button[type=submit]');
  await until('the status filter', async () => (await tableData('partner-activity')).rows.length === 2);
  assert.deepEqual(column(await tableData('partner-activity'), 'partner_id'), ['p1', 'p3']);
  assert.match(page.url(), /status=quiet/);
});

test('overview lists the partners that went quiet, linked to their pages', async () => {
  // with the default 8-week baseline the week after the events is a cooling one for
  // Alpha and Gamma (each predicted a fraction of a day and had none)
  await page.goto(`${stack.base}/t/acme/?period=custom&from=2026-03-07&to=2026-03-13`);
  await page.waitForSelector('section[data-part="partner-activity"] .legend');
  const saved = stack.query('partner-activity', { tenant: 'acme', to: '2026-03-13', days: 7 }).filter(r => r.level === 'partner');
  const quiet = saved.filter(r => r.status === 'silent' || r.status === 'cooling');
  assert.deepEqual(quiet.map(r => `${r.partner_id} ${r.status}`), ['p1 cooling', 'p3 cooling']);
  assert.deepEqual(await page.$$eval('[data-quiet]', els => els.map(e => e.dataset.quiet)), quiet.map(r => r.partner_id));
  assert.equal(await page.textContent('[data-quiet="p1"]'), `◐ cooling Alpha: ${quiet[0].reason}`);
  await page.click('[data-quiet="p1"] a');
  await page.waitForURL(/\/t\/acme\/partners\/p1\?/);
  await page.waitForSelector('[data-kpi="status"]');
  assert.match(await page.textContent('h1'), /Alpha/);
});

test('partner page: its people, what each used (paged by the cursor), its deals', async () => {
  await page.goto(`${stack.base}/t/acme/partners/p1?${WEEK}&limit=3`);
  await page.waitForSelector('[data-table="partner-people"] tbody tr');
  const saved = stack.query('partner-activity', { ...weekParams, partner: 'p1' });
  const p = saved.find(r => r.level === 'partner');
  assert.equal(Number(await kpi('touches')), p.touches);
  assert.equal(Number(await kpi('people_active')), p.people_active);
  assert.match(await page.textContent('[data-kpi="status"]'), new RegExp(`○ silent.*${p.reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const people = saved.filter(r => r.level === 'person');
  const pt = await tableData('partner-people');
  assert.deepEqual(column(pt, 'person'), people.map(r => r.person));
  assert.deepEqual(column(pt, 'status'), people.map(r => r.status));
  assert.deepEqual(column(pt, 'last_touch'), people.map(r => r.last_touch));

  // the log, three touches a page: 3, then 6, then all 8 and the end
  const log = stack.query('contact-timeline', { tenant: 'acme', partner: 'p1', from: '2026-03-07', to: '2026-03-13' });
  assert.equal(log.length, 0); // nothing in the window: the period applies to the log too
  await page.goto(`${stack.base}/t/acme/partners/p1?limit=3`);
  await page.waitForSelector('[data-table="contact-timeline"] tbody tr');
  const all = stack.query('contact-timeline', { tenant: 'acme', partner: 'p1' });
  assert.equal(all.length, 8);
  const shown = async () => column(await tableData('contact-timeline'), 'at');
  assert.deepEqual(await shown(), all.slice(0, 3).map(r => r.at));
  await page.click('button.older');
  await until('the second page', async () => (await shown()).length === 6);
  const page2 = stack.query('contact-timeline', { tenant: 'acme', partner: 'p1', limit: 3, before: all[2].cursor });
  assert.deepEqual((await tableData('contact-timeline')).rows.slice(3).map(r => r[0]), page2.map(r => r.at));
  await page.click('button.older');
  await until('the last page', async () => (await shown()).length === 8);
  await page.waitForSelector('.more .end');
  assert.equal(await page.$('button.older'), null);
  const tl = await tableData('contact-timeline');
  for (const key of ['person', 'content_id', 'pages_seen', 'dwell_ms', 'seconds_watched', 'completion', 'devices']) {
    assert.deepEqual(column(tl, key), all.map(r => str(r[key])), key);
  }
  assert.equal(await page.getAttribute('[data-count]', 'data-count'), String(all.length));
  const csv = await downloadCSV('contact-timeline');
  assert.deepEqual(csv[0], tl.head);
  assert.deepEqual(csv.slice(1), tl.rows);
  // its deals, each with what its people used before the close
  await page.waitForSelector('[data-table="partner-deals"] tbody tr');
  const deals = stack.query('partner-deals', { tenant: 'acme', partner: 'p1' });
  assert.deepEqual((await api('/api/t/acme/partners/p1/deals')).rows, deals);
  assert.equal(deals.length, 1);
  assert.ok(deals[0].used.length > 0);
  const dt = await tableData('partner-deals');
  for (const key of ['deal_id', 'stage', 'amount', 'closed_on', 'contents_used']) {
    assert.deepEqual(column(dt, key), deals.map(r => str(r[key])), key);
  }
  assert.deepEqual(column(dt, 'used'), deals.map(r => r.used.join(' ')));
  // the ten most used are named in the cell (the CSV has them all)
  assert.deepEqual(await page.$$eval('[data-table="partner-deals"] tbody [data-content]', els => els.map(e => e.textContent)),
    deals[0].used.slice(0, 10).map((c, i) => `${deals[0].used_titles[i] ? `${deals[0].used_titles[i]} ${c}` : c} (${deals[0].used_days[i]} d)`));
  if (deals[0].used.length > 10) assert.match(await page.textContent('[data-table="partner-deals"] tbody td[data-v] .muted'), new RegExp(`and ${deals[0].used.length - 10} more`));
  assert.equal(Number(await kpi('deals')), deals.length);
  const dcsv = await downloadCSV('partner-deals');
  assert.deepEqual(dcsv.slice(1), dt.rows);
  // a period without closes: a sentence
  await page.goto(`${stack.base}/t/acme/partners/p1?period=custom&from=2026-03-01&to=2026-03-06`);
  await page.waitForSelector('section[data-part="partner-deals"] .empty');
  assert.match(await page.textContent('section[data-part="partner-deals"] .empty'), /No deals of this partner/);
  // the 400 names the parameter
  const bad = await page.request.get(`${stack.base}/api/t/acme/partners/p1/deals?lookback=0`);
  assert.equal(bad.status(), 400);
  assert.equal((await bad.json()).param, 'lookback');

  // an unknown partner: a sentence
  await page.goto(`${stack.base}/t/acme/partners/nobody`);
  await page.waitForSelector('section[data-part="partner-activity"] .empty');
  assert.match(await page.textContent('section[data-part="partner-activity"] .empty'), /not known/);
});

test('person page: one person’s touches in order, from the partner page and the document viewers', async () => {
  await page.goto(`${stack.base}/t/acme/partners/p1`);
  await page.waitForSelector('[data-table="partner-people"] tbody tr');
  await page.click('[data-table="partner-people"] >> text=Ann');
  await page.waitForURL(/\/t\/acme\/people\/u1$/);
  await page.waitForSelector('[data-table="contact-timeline"] tbody tr');
  const saved = stack.query('contact-timeline', { tenant: 'acme', person: 'u1' });
  assert.deepEqual((await api('/api/t/acme/people/u1')).rows, saved);
  const tl = await tableData('contact-timeline');
  assert.deepEqual(column(tl, 'at'), saved.map(r => r.at));
  assert.deepEqual(column(tl, 'content_id'), saved.map(r => r.content_id));
  assert.deepEqual(column(tl, 'seconds_watched'), saved.map(r => str(r.seconds_watched)));
  // Ann's searches on March 2: the one that led to doc1 is on her touch of doc1 that day (its
  // text, results shown and the result opened); the one that found nothing is a touch of its own
  assert.deepEqual(column(tl, 'queries'), saved.map(r => str(r.queries)));
  const searched = saved.findIndex(r => r.searches > 0 && r.content_id === 'doc1');
  const nothing = saved.findIndex(r => r.searches > 0 && r.content_id === '');
  assert.ok(searched >= 0 && nothing >= 0 && saved.filter(r => r.searches > 0).length === 2, JSON.stringify(saved.map(r => r.queries)));
  const shownQueries = await page.$$eval('[data-table="contact-timeline"] tbody tr', (trs, i) => trs.map(tr => tr.querySelectorAll('td')[i].textContent), tl.keys.indexOf('queries'));
  assert.equal(shownQueries[searched], 'price list (3 → doc1)');
  assert.equal(shownQueries[nothing], 'warranty terms (0)');
  assert.match(await page.textContent('h1'), /Ann/);
  assert.match(await page.textContent('.crumbs'), /Alpha/);
  await page.waitForSelector('.more .end');

  // from the viewers of doc1: Cid (u3) is a person, the anonymous a1 is not linked
  await page.goto(`${stack.base}/t/acme/documents/doc1`);
  await page.waitForSelector('[data-table="document-viewers"] tbody tr');
  assert.equal(await page.$$eval('[data-table="document-viewers"] tbody a[href*="/people/"]', as => as.length), 3);
  await page.click('[data-table="document-viewers"] a[href*="/people/u3"]');
  await page.waitForURL(/\/t\/acme\/people\/u3$/);
  await page.waitForSelector('[data-table="contact-timeline"] tbody tr');
  assert.deepEqual(column(await tableData('contact-timeline'), 'content_id'), stack.query('contact-timeline', { tenant: 'acme', person: 'u3' }).map(r => r.content_id));

  await page.goto(`${stack.base}/t/acme/people/nobody`);
  await page.waitForSelector('section[data-part="contact-timeline"] .empty');
  assert.match(await page.textContent('section[data-part="contact-timeline"] .empty'), /No touches by this person/);
});

test('document and video pages: which known people of each partner opened it', async () => {
  for (const [kind, id] of [['documents', 'doc1'], ['videos', 'vid1']]) {
    await page.goto(`${stack.base}/t/acme/${kind}/${id}`);
    await page.waitForSelector('[data-table="content-reach"] tbody tr');
    const saved = stack.query('content-reach', { tenant: 'acme', content: id });
    assert.deepEqual((await api(`/api/t/acme/reach/${id}`)).rows, saved);
    const tbl = await tableData('content-reach');
    assert.deepEqual(column(tbl, 'partner_id'), saved.map(r => r.partner_id));
    assert.deepEqual(column(tbl, 'people_reached'), saved.map(r => str(r.people_reached)));
    assert.deepEqual(column(tbl, 'opened'), saved.map(r => r.opened.join(' ')));
    assert.deepEqual(column(tbl, 'not_opened'), saved.map(r => r.not_opened.join(' ')));
    assert.equal(Number(await kpi('people_reached')), saved.reduce((s, r) => s + r.people_reached, 0));
    // people by name (directory), each with its id
    const who = stack.query('directory', { tenant: 'acme' });
    const nameOf = id => who.find(x => x.kind === 'person' && x.id === id)?.name;
    const links = await page.$$eval('[data-table="content-reach"] tbody a[data-person]', as => as.map(a => [a.dataset.person, a.textContent]));
    const ids = saved.flatMap(r => [...r.opened, ...r.not_opened, ...r.other_people, ...(r.top_person ? [r.top_person] : [])]);
    assert.equal(links.length, ids.length);
    assert.ok(links.length > 0);
    for (const [id, text] of links) assert.equal(text, nameOf(id) ? `${nameOf(id)} ${id}` : id, id);
    const csv = await downloadCSV('content-reach');
    assert.deepEqual(csv.slice(1), tbl.rows);
  }
  // doc1: Alpha's two people opened it, Beta's Cid did and Dee did not, Gamma's Eve did not
  const doc = stack.query('content-reach', { tenant: 'acme', content: 'doc1' });
  assert.deepEqual(doc.map(r => `${r.partner_id}:${r.opened}/${r.not_opened}`), ['p1:u1,u2/', 'p2:u3/u4', 'p3:/u5']);
  await page.goto(`${stack.base}/t/acme/documents/doc1`);
  await page.waitForSelector('[data-table="content-reach"] tbody tr');
  assert.deepEqual(await page.$$eval('[data-table="content-reach"] tbody tr:nth-child(2) td', tds => [tds[3].textContent, tds[4].textContent]), ['Cid u3', 'Dee u4']);
  assert.deepEqual((await api('/api/t/acme/directory')).rows, stack.query('directory', { tenant: 'acme' }));
});

test('Japanese follows the switch', async () => {
  await page.goto(stack.base + '/t/acme/training');
  await page.click('.lang button[lang=ja]');
  await page.waitForSelector('h1:text-is("研修")');
  await page.waitForSelector('section[data-part="training-completion"] h2:text-is("研修の修了状況")');
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  // dates, numbers and durations in the Japanese locale
  await page.goto(stack.base + '/t/acme/documents/doc1');
  await page.waitForSelector('[data-table="document-viewers"] tbody tr');
  const first = await page.$eval('[data-table="document-viewers"] tbody tr td:nth-child(3)', td => [td.dataset.v, td.textContent]);
  assert.equal(first[1], await page.evaluate(v => new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v)), first[0]));
  assert.equal(await kpi('total_time'), await page.evaluate(() => new Intl.NumberFormat('ja-JP', { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 0 }).format(19)));
  assert.match(await page.textContent('h2 >> nth=0'), /読者が離れるページ/);
  // statuses and reasons in Japanese, from the same figures
  await page.goto(`${stack.base}/t/acme/partners?${WEEK}`);
  await page.waitForSelector('[data-table="partner-activity"] tbody tr');
  assert.deepEqual(await page.$$eval('[data-table="partner-activity"] tbody [data-status]', els => els.map(e => e.textContent)), ['○ 停止', '● アクティブ', '○ 停止']);
  const p1 = await page.$eval('[data-table="partner-activity"] tbody tr td[data-v^="no touch"]', td => td.textContent);
  const day = d => new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(d + 'T00:00:00Z'));
  assert.equal(p1, `${day('2026-03-13')} までの 7 日間に接触なし。ベースラインの予測は 2 日。最終接触 ${day('2026-03-05')}`);
  await page.goto(stack.base + '/t/acme/');
  await page.waitForSelector('h1:has-text("概要")');
  await page.click('.lang button[lang=en]');
  await page.waitForSelector('h1:has-text("Overview")');
});

test('an answer kept by beacon keep is the one computed, and says when it was computed', async () => {
  // computed for the request while nothing is kept
  const paths = ['/api/t/acme/partners/p1/timeline', '/api/t/acme/training', '/api/t/acme/reach/doc1'];
  const live = [];
  for (const p of paths) {
    const d = await api(p);
    assert.equal(d.kept_at, undefined, `${p} before beacon keep ran`);
    live.push(d);
  }
  // one round: the tenant-wide forms, then the per-entity ones (p1's contact log, doc1's reach)
  stack.run('keep', '-keep.once', '-keep.tenants=acme', `-clickhouse.addr=${stack.chAddr}`);
  for (const [i, p] of paths.entries()) {
    const d = await api(p);
    assert.ok(d.kept_at, `${p}: not served from the kept answer`);
    assert.deepEqual(d.rows, live[i].rows, p);
  }
  const kept = await api('/api/t/acme/partners/p1/timeline');
  await page.goto(stack.base + '/t/acme/partners/p1');
  const line = 'section[data-part="contact-timeline"] .source .kept';
  await page.waitForSelector(line);
  const when = await page.evaluate(v => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(v)), kept.kept_at);
  assert.equal(await page.textContent(line), ` · computed at ${when} by beacon keep`);
  // the touches shown are the kept rows, newest first
  await page.waitForSelector('[data-table="contact-timeline"] tbody tr');
  assert.equal(await page.getAttribute('section[data-part="contact-timeline"] [data-count]', 'data-count'), String(kept.rows.length));
  assert.deepEqual(column(await tableData('contact-timeline'), 'at'), kept.rows.map(r => str(r.at)));
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
  for (const p of ['partners', 'partners/p1', 'partners/p1/timeline', 'people/u1', 'reach/doc1']) {
    assert.equal((await page.request.get(`${stack.base}/api/t/acme/${p}`)).status(), 404, p);
  }
  assert.equal((await page.goto(stack.base + '/t/acme/partners/p1')).status(), 404);
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

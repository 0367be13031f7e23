// The demo page as a newcomer sees it: page view, the document in the hosted
// viewer (own frame), the video, scrolling to the end, and leaving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../server.mjs';
import { launch, until } from './helpers.mjs';

let srv, br;
before(async () => { srv = await startServer(); br = await launch(); });
after(async () => { await br?.close(); await srv?.close(); });

test('demo page: page, document and video views, scroll to the end, pagehide', async () => {
  const page = await br.ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.goto(`${srv.base}/demo/`);
  const has = f => () => srv.events().some(f);
  await until('page view', has(e => e.type === 'view' && e.content_id === 'demo-hub'));
  await until('video view', has(e => e.type === 'view' && e.content_id === 'vid-demo-onboarding'));
  await until('document view', has(e => e.type === 'view' && e.content_id === 'doc-demo-playbook' && e.page_count === 6), 20000);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await until('scroll 100', has(e => e.type === 'scroll' && e.depth === 100 && e.content_id === 'demo-hub'));
  await page.click('#custom');
  await page.screenshot({ path: 'test/demo.png', fullPage: false }).catch(() => {});
  const log = await page.textContent('#log');
  assert.match(log, /custom .*deal_registered/);
  await page.goto('about:blank');
  await until('document page dwell on pagehide', has(e => e.type === 'page' && e.content_id === 'doc-demo-playbook' && e.page === 1));
  await until('engage on pagehide', has(e => e.type === 'engage' && e.content_id === 'demo-hub'));
  const doc = srv.events().find(e => e.type === 'view' && e.content_id === 'doc-demo-playbook');
  assert.equal(doc.title, 'Partner Playbook');
  assert.equal(doc._batch.site, 'demo');
  assert.deepEqual(errors, []);
  await page.close();
});

// The snippet against the real collector (`beacon collector`, built from this
// repo): it serves the build, the viewer and the demo, and validates every
// batch by wire format v1. Assertions: every event the pages queued was
// accepted (none rejected, none refused), the tracked link minted by
// `beacon link` redirects with a token that the landing page keeps and the
// collector verifies. When `beacon kafka` (a local broker) works, the
// normalized events are read back from the topic with kcat and checked too.
// Skipped, with the reason, when the Go toolchain or the collector is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { launch, until, near } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const snippet = join(here, '..', '..');
const repo = join(snippet, '..');
const work = mkdtempSync(join(tmpdir(), 'beacon-collector-test-'));
const procs = [];
let bin, base, broker, br, skip = '';

const freePort = () => new Promise((res, rej) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }).on('error', rej);
});

function start(args, name) {
  const p = spawn(bin, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', d => { log += d; });
  p.stderr.on('data', d => { log += d; });
  p.log = () => log;
  p.name = name;
  procs.push(p);
  return p;
}

async function metrics() {
  const txt = await (await fetch(`${base}/metrics`)).text();
  const sum = re => txt.split('\n').filter(l => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  return {
    accepted: sum(/^beacon_events_accepted_total /),
    rejectedEvents: sum(/^beacon_events_rejected_total\{/),
    // not_found: the browser asks for /favicon.ico.
    rejectedRequests: sum(/^beacon_requests_rejected_total\{reason="(?!not_found")/),
    tokens: sum(/^beacon_attribution_total\{result="token"\}/),
    text: txt,
  };
}

before(async () => {
  if (process.env.BEACON_BIN) bin = process.env.BEACON_BIN;
  else {
    if (spawnSync('go', ['version']).status !== 0) { skip = 'no Go toolchain to build beacon'; return; }
    bin = join(work, 'beacon');
    execFileSync('go', ['build', '-o', bin, './cmd/beacon'], { cwd: repo, stdio: 'inherit' });
  }
  const h = spawnSync(bin, ['collector', '-h'], { encoding: 'utf8' });
  if (!/collector\.listenAddr/.test(h.stdout + h.stderr)) { skip = 'beacon collector is not built yet'; return; }
  // A local broker when `beacon kafka` exists; without one the collector spools to disk.
  const k = spawnSync(bin, ['kafka', '-h'], { encoding: 'utf8' });
  const kport = await freePort();
  if (/kafka\.port/.test(k.stdout + k.stderr) && spawnSync('kcat', ['-V']).status === 0) {
    broker = `127.0.0.1:${kport}`;
    const kp = start(['kafka', `-kafka.port=${kport}`, `-kafka.dataDir=${join(work, 'kafka')}`, '-kafka.partitions=2'], 'kafka');
    await until('kafka to serve its topics', () => /kafka: serving/.test(kp.log()), 30000);
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  start(['collector', `-collector.listenAddr=127.0.0.1:${port}`, `-collector.sites=${join(work, 'sites.json')}`, '-collector.demoSites',
    '-collector.demo', '-collector.viewer', `-collector.spoolDir=${join(work, 'spool')}`, `-collector.snippetDir=${join(snippet, 'dist')}`, `-collector.brokers=${broker || '127.0.0.1:' + kport}`], 'collector');
  await until('collector /healthz', () => fetch(`${base}/healthz`).then(r => r.ok, () => false), 20000);
  br = await launch();
});

after(async () => {
  await br?.close();
  for (const p of procs.reverse()) {
    if (p.exitCode === null) {
      p.kill('SIGTERM');
      await until(`${p.name} to stop`, () => p.exitCode !== null || p.signalCode !== null, 15000).catch(() => p.kill('SIGKILL'));
    }
  }
  rmSync(work, { recursive: true, force: true });
});

test('real collector: demo page, document, video, scroll, tracked link, pagehide - every event accepted', async t => {
  if (skip) return t.skip(skip);
  // queued: what the pages queued (listen); sent: every body handed to
  // sendBeacon or fetch, logged synchronously to localStorage by the pages
  // (the listener binding cannot report from a page being unloaded).
  const queued = [];
  const page = await br.ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.exposeBinding('__rec', (src, e) => { queued.push(JSON.parse(e)); });
  await page.addInitScript(() => {
    window.beacon = { q: [['listen', e => window.__rec(JSON.stringify(e))]] };
    const log = b => { if (typeof b === 'string' && b.includes('"events"')) localStorage.setItem('__sent', (localStorage.getItem('__sent') || '') + b + '\n'); };
    const sb = navigator.sendBeacon.bind(navigator), f = window.fetch.bind(window);
    navigator.sendBeacon = (u, b) => { const ok = sb(u, b); if (ok) log(b); return ok; };
    window.fetch = (u, o) => { if (o && o.body) log(o.body); return f(u, o); };
  });
  const has = f => () => queued.some(f);

  await page.goto(`${base}/demo/index.html`);
  await until('document view', has(e => e.type === 'view' && e.content_id === 'doc-demo-playbook' && e.page_count === 6), 20000);
  const frame = page.frames().find(f => f.url().includes('/viewer/'));
  await frame.evaluate(() => { window.pdfViewer.currentPageNumber = 2; });
  await until('page 1 dwell', has(e => e.type === 'page' && e.page === 1));
  await page.evaluate(() => { const v = document.querySelector('video'); v.playbackRate = 2; return v.play(); });
  await page.waitForFunction(() => document.querySelector('video').currentTime >= 3);
  await page.evaluate(() => document.querySelector('video').pause());
  await until('video pause', has(e => e.type === 'video' && e.action === 'pause'));
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await until('scroll 100', has(e => e.type === 'scroll' && e.depth === 100));
  await page.click('#custom');

  // A tracked link minted by `beacon link`, opened like a partner would.
  const link = execFileSync(bin, ['link', `-link.base=${base}`, `-link.sites=${join(work, 'sites.json')}`, '-link.partner=acme',
    '-link.user=jane@acme.example', '-link.campaign=q4', '-link.content=demo-hub', `-link.target=${base}/demo/index.html?from=mail`],
  { cwd: work, encoding: 'utf8' }).trim().split('\n').pop();
  assert.match(link, new RegExp(`^${base}/l/`));
  await page.goto(link);
  await page.waitForURL(`${base}/demo/index.html?from=mail`);
  assert.ok(await page.evaluate(() => localStorage.getItem('_bcn_t')), 'token kept first-party');
  await until('landing view', () => queued.filter(e => e.type === 'view' && e.content_id === 'demo-hub').length === 2);
  await page.goto('about:blank');
  // Read the log from a page of the same origin that has no snippet.
  await page.goto(`${base}/healthz`);
  const sent = (await page.evaluate(() => localStorage.getItem('__sent'))).split('\n').filter(Boolean).flatMap(l => JSON.parse(l).events);
  assert.ok(sent.some(e => e.type === 'engage'), 'pagehide sent engaged time');

  const n = () => sent.length;
  // The collector itself records one more: the click on the tracked link.
  await until('collector accepted every sent event', async () => (await metrics()).accepted >= n() + 1, 20000);
  const m = await metrics();
  assert.equal(m.rejectedEvents, 0, m.text.split('\n').filter(l => /rejected/.test(l)).join('\n'));
  assert.equal(m.rejectedRequests, 0, m.text.split('\n').filter(l => /rejected/.test(l)).join('\n'));
  assert.equal(m.accepted, n() + 1, 'accepted exactly what was sent, plus the tracked click');
  assert.equal(new Set(sent.map(e => e.id)).size, n(), 'no event sent twice on a healthy path');
  const sentIds = new Set(sent.map(e => e.id));
  for (const e of queued) assert.ok(sentIds.has(e.id), `queued ${e.type} was sent`);
  assert.ok(m.tokens >= 1, 'the landing batches carried a verified token');
  const types = new Set(sent.map(e => e.type));
  for (const ty of ['view', 'page', 'video', 'scroll', 'custom', 'engage']) assert.ok(types.has(ty), `sent a ${ty} event`);
  assert.deepEqual(errors, []);

  if (!broker) return t.diagnostic('no local broker (beacon kafka): checked acceptance through /metrics only');
  // Read the normalized events back from Kafka.
  let msgs = [];
  await until('all events on the topic', () => {
    const out = spawnSync('kcat', ['-b', broker, '-t', 'beacon.events', '-C', '-e', '-q', '-o', 'beginning', '-f', '%s\n'], { encoding: 'utf8', timeout: 10000 });
    msgs = out.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l));
    return msgs.length >= n();
  }, 30000);
  const byId = new Map(msgs.map(x => [x.event_id, x]));
  for (const e of sent) assert.ok(byId.has(e.id), `event ${e.type} ${e.id} on the topic`);
  const p1 = byId.get(queued.find(e => e.type === 'page' && e.page === 1).id);
  assert.equal(p1.content_id, 'doc-demo-playbook');
  assert.equal(p1.page_count, 6);
  assert.ok(p1.dwell_ms > 0);
  const pause = byId.get(queued.find(e => e.type === 'video' && e.action === 'pause').id);
  assert.equal(pause.rate, 2);
  assert.ok(pause.watched_start.length === pause.watched_end.length && pause.watched_end.at(-1) >= 3 - 0.6);
  const landing = msgs.filter(x => x.type === 'view' && x.content_id === 'demo-hub' && x.attribution === 'token');
  assert.equal(landing.length, 1);
  assert.deepEqual([landing[0].partner_id, landing[0].partner_user_id, landing[0].campaign_id], ['acme', 'jane@acme.example', 'q4']);
  assert.ok(!landing[0].url.includes('pb_t'));
  const click = msgs.find(x => x.type === 'click' && x.action === 'tracked');
  assert.ok(click, 'the collector recorded the tracked link click');
  assert.ok(near(pause.position, 3, 1));
  t.diagnostic(`read ${msgs.length} normalized events back from Kafka (${n()} sent by the snippet, 1 tracked click)`);
});

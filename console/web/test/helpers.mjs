// Test helpers: the beacon binary, a local ClickHouse loaded with the golden dataset,
// a console, and Debian's Chromium driven by playwright-core.
import { chromium } from 'playwright-core';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..', '..');
export const golden = join(repo, 'console', 'testdata', 'golden');

export const freePort = () => new Promise((res, rej) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }).on('error', rej);
});

// until polls cond every 50 ms until it returns a truthy value or the deadline passes.
export async function until(what, cond, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond().catch(() => false);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

// beaconBinary builds cmd/beacon (with the console assets just built) unless BEACON_BIN names one.
export function beaconBinary(work) {
  if (process.env.BEACON_BIN) return process.env.BEACON_BIN;
  if (spawnSync('go', ['version']).status !== 0) throw new Error('no Go toolchain to build beacon (or set BEACON_BIN)');
  const bin = join(work, 'beacon');
  execFileSync('go', ['build', '-o', bin, './cmd/beacon'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

// A child process whose output is kept for error messages.
export function child(bin, args, name) {
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.log = '';
  p.stdout.on('data', d => { p.log += d; });
  p.stderr.on('data', d => { p.log += d; });
  p.label = name;
  return p;
}

export async function stop(p) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await until(`${p.label} to stop`, async () => p.exitCode !== null || p.signalCode !== null, 30000).catch(() => p.kill('SIGKILL'));
}

// Stack: ClickHouse (beacon clickhouse) with the golden data, and a console for two users.
export class Stack {
  async start() {
    this.work = mkdtempSync(join(tmpdir(), 'beacon-console-test-'));
    this.bin = beaconBinary(this.work);
    const ports = new Set(); // three different ports: a port just released may be handed out again
    while (ports.size < 3) ports.add(await freePort());
    [this.tcp, this.http, this.port] = [...ports];
    this.chAddr = `127.0.0.1:${this.tcp}`;
    this.base = `http://127.0.0.1:${this.port}`;
    await this.startClickHouse();
    const run = (...args) => execFileSync(this.bin, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    this.run = run;
    run('migrate', `-clickhouse.addr=${this.chAddr}`, 'up');
    const q = encodeURIComponent('INSERT INTO beacon.events FORMAT JSONEachRow');
    const r = await fetch(`http://127.0.0.1:${this.http}/?query=${q}`, { method: 'POST', body: readFileSync(join(golden, 'events.jsonl')) });
    if (!r.ok) throw new Error(`insert events: ${await r.text()}`);
    run('refresh', `-clickhouse.addr=${this.chAddr}`, '-refresh.all');
    for (const t of ['partners', 'partner_users', 'campaigns', 'contents', 'course_assignments', 'deals']) {
      run('import', `-clickhouse.addr=${this.chAddr}`, '-import.tenant', 'acme', t, join(golden, `${t}.csv`));
    }
    this.users = { ann: 'ann-browser-pass', bob: 'bob-browser-pass' };
    const hash = p => execFileSync(this.bin, ['console', '-hash'], { input: p + '\n', encoding: 'utf8' }).trim();
    const usersFile = join(this.work, 'users.json');
    writeFileSync(usersFile, JSON.stringify({ users: [
      { name: 'ann', passwordHash: hash(this.users.ann), tenants: ['acme'] },
      { name: 'bob', passwordHash: hash(this.users.bob), tenants: ['beta'] },
    ] }));
    this.console = child(this.bin, ['console', `-console.listenAddr=127.0.0.1:${this.port}`, `-console.users=${usersFile}`, `-clickhouse.addr=${this.chAddr}`], 'console');
    await until('the console to answer', async () => {
      if (this.console.exitCode !== null) throw new Error(`console exited:\n${this.console.log}`);
      return (await fetch(`${this.base}/api/health`)).ok;
    }, 30000);
  }

  async startClickHouse() {
    const cache = process.env.BEACON_CACHE_DIR || join(repo, '.cache');
    this.ch = child(this.bin, ['clickhouse', `-clickhouse.dataDir=${join(this.work, 'ch')}`, `-clickhouse.tcpPort=${this.tcp}`,
      `-clickhouse.httpPort=${this.http}`, `-cacheDir=${cache}`], 'clickhouse');
    await until('ClickHouse to answer', async () => {
      if (this.ch.exitCode !== null) throw new Error(`clickhouse exited:\n${this.ch.log}`);
      return (await fetch(`http://127.0.0.1:${this.http}/ping`)).ok;
    }, 240000);
  }

  // query runs a saved query the way a person would (`beacon query -format json`).
  query(name, params) {
    const args = ['query', name, `-clickhouse.addr=${this.chAddr}`, '-format', 'json'];
    for (const [k, v] of Object.entries(params)) args.push('-param', `${k}=${v}`);
    return JSON.parse(this.run(...args));
  }

  async close() {
    await stop(this.console);
    await stop(this.ch);
    if (this.work) rmSync(this.work, { recursive: true, force: true });
  }
}

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  const dir = mkdtempSync(join(tmpdir(), 'beacon-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, acceptDownloads: true, locale: 'en-US',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=en-US'],
    viewport: { width: 1200, height: 900 },
  });
  return { ctx, close: async () => { await ctx.close(); rmSync(dir, { recursive: true, force: true }); } };
}

// parseCSV parses the download (RFC 4180, BOM first).
export function parseCSV(text) {
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

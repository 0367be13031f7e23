// The whole local stack for the end-to-end browser tests: `beacon dev` (ClickHouse, the
// Kafka-protocol broker, ingest, collector, console) built from this repository, on free
// ports, with its data in the test's work directory.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { until } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const snippet = join(here, '..', '..');
export const repo = join(snippet, '..');

// A reader's desktop browser: headless Chromium's own User-Agent is flagged as a bot
// (ua:headless), so the end-to-end tests launch with this one.
export const DESKTOP_UA = '--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export const freePort = () => new Promise((res, rej) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }).on('error', rej);
});

// startDev builds beacon (unless BEACON_BIN names one) and starts `beacon dev` serving
// snippetDir (default: this build's dist). It returns { skip } with the reason when Go is
// missing, else { bin, base (the collector's URL), ch (ClickHouse's HTTP URL), sql (a query
// on the beacon database, rows parsed from JSONEachRow), log (what dev printed), stop }.
// The first run may fetch the ClickHouse engine (about 180 MB).
export async function startDev(work, { snippetDir = join(snippet, 'dist') } = {}) {
  let bin = process.env.BEACON_BIN;
  if (!bin) {
    if (spawnSync('go', ['version']).status !== 0) return { skip: 'no Go toolchain to build beacon' };
    bin = join(work, 'beacon');
    execFileSync('go', ['build', '-o', bin, './cmd/beacon'], { cwd: repo, stdio: 'inherit' });
  }
  // every address the stack listens on is a free port of its own: no default port that a
  // stack of another test, still stopping, may hold, and no port twice (the system may hand
  // a port just released out again; two parts on one port and the readiness check of the
  // second is answered by the first, which then stops with the stack when the second dies)
  const ports = new Set();
  while (ports.size < 8) ports.add(await freePort());
  const [chTCP, chHTTP, kafka, col, ing, con, sigMetrics, sigReceiver] = [...ports];
  const dev = spawn(bin, ['dev', `-dev.dataDir=${join(work, 'var')}`, `-cacheDir=${process.env.BEACON_CACHE_DIR || join(repo, '.cache')}`,
    `-dev.clickhouseTCPPort=${chTCP}`, `-dev.clickhouseHTTPPort=${chHTTP}`, `-dev.kafkaPort=${kafka}`, '-dev.partitions=2',
    `-dev.collectorAddr=127.0.0.1:${col}`, `-dev.ingestMetricsAddr=127.0.0.1:${ing}`, `-dev.consoleAddr=127.0.0.1:${con}`,
    `-dev.signalsMetricsAddr=127.0.0.1:${sigMetrics}`, `-dev.signalsReceiverAddr=127.0.0.1:${sigReceiver}`,
    `-dev.snippetDir=${snippetDir}`],
  { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '', stopping = false;
  dev.stdout.on('data', d => { log += d; });
  dev.stderr.on('data', d => { log += d; });
  // a stack that stops on its own (a part died) fails the test that uses it: say why
  dev.on('exit', (code, signal) => {
    if (!stopping) console.error(`beacon dev stopped on its own (${code ?? signal}):\n${log}`);
  });
  const stop = async () => {
    stopping = true;
    if (dev.exitCode !== null || dev.signalCode !== null) return;
    dev.kill('SIGTERM');
    await until('beacon dev to stop', () => dev.exitCode !== null || dev.signalCode !== null, 60000).catch(() => dev.kill('SIGKILL'));
  };
  try {
    await until('beacon dev to be up', () => { if (dev.exitCode !== null) throw new Error(`beacon dev exited:\n${log}`); return /stack is up/.test(log); }, 240000);
  } catch (e) {
    await stop();
    throw e;
  }
  const ch = `http://127.0.0.1:${chHTTP}`;
  const sql = async q => {
    const r = await fetch(`${ch}/?database=beacon`, { method: 'POST', body: q });
    const t = await r.text();
    if (!r.ok) throw new Error(`clickhouse: ${t}`);
    return t.split('\n').filter(Boolean).map(l => JSON.parse(l));
  };
  return { bin, base: `http://127.0.0.1:${col}`, ch, sql, log: () => log, stop };
}

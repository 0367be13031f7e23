// Browser test helpers: Debian's Chromium driven by playwright-core.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// launch starts Chromium with a fresh profile; extra command-line flags in args (e.g.
// --user-agent: headless Chromium says "HeadlessChrome", which the collector flags as a
// bot; the flag, unlike a per-page override, also covers beacons sent after unload).
export async function launch(args = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  const dir = mkdtempSync(join(tmpdir(), 'beacon-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--autoplay-policy=no-user-gesture-required', ...args],
    viewport: { width: 1000, height: 700 },
  });
  return { ctx, close: async () => { await ctx.close(); rmSync(dir, { recursive: true, force: true }); } };
}

// until polls cond (sync or async) every 50 ms until it returns a truthy value
// or the deadline passes; the error names what was awaited.
export async function until(what, cond, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

export const near = (got, want, tol) => Math.abs(got - want) <= tol;

// Times the console's pages in headless Chromium for the bench's console scenario
// (bench/console.go): signs in, loads each page once so its assets are cached, then
// CONSOLE_LOADS times from the navigation's start to visually complete: no part still
// loading, every chart drawn, no part showing an error. Prints one JSON line per page:
// {"path": ..., "ms": [...]}. Environment: CONSOLE_BASE, CONSOLE_USER, CONSOLE_PASSWORD,
// CONSOLE_PAGES (comma-separated paths), CONSOLE_LOADS, CHROMIUM (default /usr/bin/chromium).
import { launch } from './helpers.mjs';

const env = k => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('CONSOLE_BASE');
const pages = env('CONSOLE_PAGES').split(',');
const loads = Number(process.env.CONSOLE_LOADS || 10);

// complete: every section has its answer drawn (not loading, not an error), every chart
// container holds its canvas; returns the time since the navigation started.
const complete = () => {
  const main = document.querySelector('main');
  if (!main || !main.querySelector('section.card')) return false;
  if (document.querySelector('.loading')) return false;
  const err = document.querySelector('[role=alert]');
  if (err) return { error: err.textContent };
  for (const c of document.querySelectorAll('.chart')) if (!c.querySelector('canvas')) return false;
  return { ms: performance.now() };
};

const br = await launch();
try {
  const page = await br.ctx.newPage();
  const r = await page.request.post(base + '/api/login', { data: { name: env('CONSOLE_USER'), password: env('CONSOLE_PASSWORD') } });
  if (!r.ok()) throw new Error(`sign-in: ${r.status()}`);
  for (const path of pages) {
    const ms = [];
    for (let i = 0; i <= loads; i++) {
      await page.goto(base + path);
      const h = await page.waitForFunction(complete, null, { polling: 'raf', timeout: 180000 });
      const v = await h.jsonValue();
      if (v.error) throw new Error(`${path}: ${v.error}`);
      if (i > 0) ms.push(Math.round(v.ms * 10) / 10); // the first load fills the cache
    }
    console.log(JSON.stringify({ path, ms }));
  }
} finally {
  await br.close();
}

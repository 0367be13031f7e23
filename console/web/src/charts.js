// Charts with uPlot. Each series differs by shape as well as colour (bars against a line
// with dots; numbered circles on drop-offs), and every chart has a table of its numbers.
import uPlot from 'uplot';

const css = name => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#333';

function sized(el) {
  return Math.max(320, Math.min(el.clientWidth || 800, 1100));
}

// pagesChart: per page, readers who reached it (bars, left axis) and total time on it in
// seconds (line with dots, right axis).
export function pagesChart(el, pages, i18n) {
  const xs = pages.map(p => p.page);
  const reached = pages.map(p => p.reached);
  const secs = pages.map(p => Math.round(p.dwell_ms / 100) / 10);
  const bars = uPlot.paths.bars({ size: [0.6, 60] });
  const opts = {
    width: sized(el), height: 260,
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, r: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] }, s: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { label: i18n.t.col.page, incrs: [1, 2, 5, 10, 20, 50, 100], values: (u, v) => v.map(x => (Number.isInteger(x) ? x : '')) },
      { scale: 'r', label: i18n.t.col.reached, values: (u, v) => v.map(i18n.num) },
      { scale: 's', side: 1, label: `${i18n.t.col.pageDwell} (${i18n.t.sec})`, grid: { show: false }, values: (u, v) => v.map(i18n.num) },
    ],
    series: [
      { label: i18n.t.col.page },
      { label: i18n.t.col.reached, scale: 'r', paths: bars, fill: css('--bar'), stroke: css('--bar-edge'), points: { show: false }, value: (u, v) => i18n.num(v) },
      { label: `${i18n.t.col.pageDwell} (${i18n.t.sec})`, scale: 's', stroke: css('--line'), width: 2, dash: [6, 3], points: { show: true, size: 8, fill: '#fff' }, value: (u, v) => i18n.num(v) },
    ],
  };
  return new uPlot(opts, [xs, reached, secs], el);
}

// mss writes a second of video as m:ss from a minute on.
const mss = x => (x >= 60 ? `${Math.floor(x / 60)}:${String(x % 60).padStart(2, '0')}` : String(x));

// retentionChart: share of starters still watching at each second (line), with the
// drop-off points (drop_rank 1..5) drawn as numbered circles.
export function retentionChart(el, rows, i18n) {
  const xs = rows.map(r => r.second);
  const ys = rows.map(r => r.retention * 100);
  const drops = rows.filter(r => r.drop_rank > 0);
  const opts = {
    width: sized(el), height: 280,
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(100, max)] } },
    axes: [
      { label: `${i18n.t.col.second}`, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200], values: (u, v) => v.map(mss) },
      { label: `${i18n.t.col.retention} (%)`, values: (u, v) => v.map(x => i18n.num(x)) },
    ],
    series: [
      { label: i18n.t.col.second, value: (u, v) => (v === null ? '—' : i18n.num(v)) },
      { label: i18n.t.col.retention, stroke: css('--line'), width: 2, fill: css('--area'), points: { show: false }, value: (u, v) => (v === null ? '—' : i18n.pct(v / 100)) },
    ],
    hooks: {
      draw: [u => {
        const ctx = u.ctx;
        ctx.save();
        for (const d of drops) {
          const x = u.valToPos(d.second, 'x', true), y = u.valToPos(d.retention * 100, 'y', true);
          const r = 10 * devicePixelRatio;
          ctx.beginPath();
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.fillStyle = '#fff';
          ctx.fill();
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.strokeStyle = css('--mark');
          ctx.stroke();
          ctx.fillStyle = css('--mark');
          ctx.font = `bold ${11 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(String(d.drop_rank), x, y);
        }
        ctx.restore();
      }],
    },
  };
  return new uPlot(opts, [xs, ys], el);
}

// heatmapChart: one viewer's plays of each second (bars: how many times they played it),
// with every replayed second (played more than once) marked by a ↻ above its bar, so
// replays read without colour; the bars of replayed seconds are also darker.
export function heatmapChart(el, rows, i18n) {
  const xs = rows.map(r => r.second);
  const once = rows.map(r => (r.plays === 1 ? 1 : null));
  const again = rows.map(r => (r.plays > 1 ? r.plays : null));
  const bars = uPlot.paths.bars({ size: [1, 40], gap: 1 });
  const opts = {
    width: sized(el), height: 200,
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (u, min, max) => [0, Math.max(2, max) + 0.6] } },
    axes: [
      { label: i18n.t.col.second, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200], values: (u, v) => v.map(x => (Number.isInteger(x) ? mss(x) : '')) },
      { label: i18n.t.col.plays, incrs: [1, 2, 5, 10], values: (u, v) => v.map(x => (Number.isInteger(x) ? i18n.num(x) : '')) },
    ],
    series: [
      { label: i18n.t.col.second, value: (u, v) => (v === null ? '—' : mss(v)) },
      { label: i18n.t.watchedOnce, paths: bars, fill: css('--bar'), stroke: css('--bar-edge'), points: { show: false }, value: (u, v) => (v === null ? '—' : i18n.num(v)) },
      { label: i18n.t.replayed, paths: bars, fill: css('--mark'), stroke: css('--mark'), points: { show: false }, value: (u, v) => (v === null ? '—' : i18n.num(v)) },
    ],
    hooks: {
      draw: [u => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = css('--mark');
        ctx.font = `bold ${12 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'bottom';
        for (const r of rows) {
          if (r.plays < 2) continue;
          ctx.fillText('↻', u.valToPos(r.second, 'x', true), u.valToPos(r.plays, 'y', true) - 2 * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
  return new uPlot(opts, [xs, once, again], el);
}

// The beacon console: one page that draws every view from the JSON API under /api/.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, table } from './dom.js';
import { pickLang, makeI18n } from './i18n.js';
import { pagesChart, retentionChart } from './charts.js';

let i18n = makeI18n(pickLang());
let me = null;
let leaving = false; // signing out: answers still in flight must not send to the login again
const app = () => document.getElementById('app');

// ---- API ----------------------------------------------------------------------------

async function api(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (e) {
    return { ok: false, status: 0, data: { error: String(e) } };
  }
  if (resp.status === 401) {
    if (leaving) return new Promise(() => {});
    leaving = true;
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    return new Promise(() => {});
  }
  let data = {};
  try { data = await resp.json(); } catch { /* not JSON */ }
  return { ok: resp.ok, status: resp.status, data };
}

// ---- routes and filters -------------------------------------------------------------

function route() {
  const p = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] === 'login') return { page: 'login' };
  if (p[0] !== 't' || !p[1]) return { page: 'notfound' };
  const r = { tenant: p[1], page: p[2] || 'overview', id: p[3] || '' };
  if (!['overview', 'documents', 'videos', 'training', 'campaigns', 'tools'].includes(r.page) || p.length > 4) r.page = 'notfound';
  return r;
}

const utcDay = d => d.toISOString().slice(0, 10);

// filters reads the filter bar's state from the URL; from/to are resolved for presets.
function filters() {
  const q = new URLSearchParams(location.search);
  const f = { period: q.get('period') || 'all', from: q.get('from') || '', to: q.get('to') || '', partner: q.get('partner') || '', campaign: q.get('campaign') || '', course: q.get('course') || '' };
  const days = { 7: 7, 30: 30, 90: 90 }[f.period];
  if (days) {
    const to = new Date();
    f.to = utcDay(to);
    f.from = utcDay(new Date(to.getTime() - (days - 1) * 86400000));
  } else if (f.period !== 'custom') {
    f.from = f.to = '';
  }
  return f;
}

function qs(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

function go(path, keepSearch = true) {
  history.pushState(null, '', path + (keepSearch ? location.search : ''));
  render();
}

function link(path, text, attrs = {}) {
  return h('a', { href: path + location.search, ...attrs, onclick: e => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(path); } } }, text);
}

// ---- layout -------------------------------------------------------------------------

function header(r) {
  const t = i18n.t;
  const base = `/t/${encodeURIComponent(r.tenant)}`;
  const nav = ['overview', 'documents', 'videos', 'training', 'campaigns', 'tools'].map(p =>
    h('li', null, link(p === 'overview' ? base + '/' : `${base}/${p}`, t.nav[p], { 'aria-current': r.page === p ? 'page' : null })));
  const tenants = me && me.tenants.length > 1
    ? h('label', { class: 'tenant' }, t.tenant + ' ', h('select', { onchange: e => go(`/t/${encodeURIComponent(e.target.value)}/`, false) },
      me.tenants.map(x => h('option', { value: x, selected: x === r.tenant }, x))))
    : h('span', { class: 'tenant' }, r.tenant);
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', null, 'beacon'), ' ', t.title.replace('beacon ', '')),
    tenants,
    h('nav', { 'aria-label': 'main' }, h('ul', null, nav)),
    h('div', { class: 'right' }, langSwitch(),
      me ? h('button', { type: 'button', class: 'link', onclick: async () => { leaving = true; await fetch('/api/logout', { method: 'POST' }); location.assign('/login'); } }, t.signOut, ` (${me.name})`) : null));
}

function langSwitch() {
  return h('div', { class: 'lang', role: 'group', 'aria-label': i18n.t.language },
    [['en', 'EN'], ['ja', '日本語']].map(([l, label]) => h('button', { type: 'button', lang: l, 'aria-pressed': i18n.lang === l ? 'true' : 'false', onclick: () => { localStorage.setItem('beacon.lang', l); i18n = makeI18n(l); render(); } }, label)));
}

// filterBar shows the filters the page's saved queries take.
function filterBar(which) {
  const t = i18n.t, f = filters();
  if (!which.length) return h('p', { class: 'note' }, t.noPeriodHere);
  const form = h('form', { class: 'filters', onsubmit: e => {
    e.preventDefault();
    const d = new FormData(form);
    const o = {};
    for (const [k, v] of d.entries()) o[k] = String(v).trim();
    if (o.period !== 'custom') { delete o.from; delete o.to; }
    if (o.period === 'all') delete o.period;
    history.pushState(null, '', location.pathname + qs(o));
    render();
  } });
  const kids = [];
  if (which.includes('period')) {
    const sel = h('select', { name: 'period', onchange: () => { custom.hidden = sel.value !== 'custom'; } },
      [['all', t.all], ['7', t.last7], ['30', t.last30], ['90', t.last90], ['custom', t.custom]].map(([v, l]) => h('option', { value: v, selected: f.period === v }, l)));
    const custom = h('span', { class: 'custom', hidden: f.period !== 'custom' },
      h('label', null, t.from, ' ', h('input', { type: 'date', name: 'from', value: f.period === 'custom' ? f.from : '' })),
      h('label', null, t.to, ' ', h('input', { type: 'date', name: 'to', value: f.period === 'custom' ? f.to : '' })));
    kids.push(h('label', null, t.period, ' ', sel), custom, h('span', { class: 'hint' }, `(${t.utc})`));
  }
  for (const k of ['partner', 'campaign', 'course']) {
    if (which.includes(k)) kids.push(h('label', null, t[k], ' ', h('input', { type: 'text', name: k, value: f[k], size: 12, autocomplete: 'off', list: k === 'course' ? null : `${k}-ids` })));
  }
  // suggestions: every partner and campaign of the tenant, from campaign-ranking
  if (which.includes('partner') || which.includes('campaign')) {
    const lists = { partner: h('datalist', { id: 'partner-ids' }), campaign: h('datalist', { id: 'campaign-ids' }) };
    kids.push(lists.partner, lists.campaign);
    const r = route();
    api(`/api/t/${encodeURIComponent(r.tenant)}/campaigns`).then(res => {
      if (!res.ok) return;
      const seen = { partner: new Map(), campaign: new Map() };
      for (const x of rowsOf(res.data)) {
        seen.partner.set(x.partner_id, x.partner_name);
        seen.campaign.set(x.campaign_id, x.campaign_name);
      }
      for (const k of ['partner', 'campaign']) {
        lists[k].replaceChildren(...[...seen[k]].sort().map(([id, name]) => h('option', { value: id }, name || id)));
      }
    });
  }
  kids.push(h('button', { type: 'submit' }, t.apply));
  form.append(...kids);
  return form;
}

// section renders a titled block whose content comes from one API call; while it loads
// it says so, and when ClickHouse cannot answer it says which part is unavailable.
function section(title, path, draw, opts = {}) {
  const body = h('div', { class: 'body' }, h('p', { class: 'loading' }, i18n.t.loading));
  const sec = h('section', { class: 'card ' + (opts.class || ''), 'data-part': opts.part || '' }, title ? h('h2', null, title) : null, body);
  const load = async () => {
    body.replaceChildren(h('p', { class: 'loading' }, i18n.t.loading));
    const res = await api(path);
    if (!res.ok) {
      const part = res.data.unavailable || res.data.query || path;
      const msg = res.status === 503 || res.status === 0 ? i18n.t.unavailable(part) : res.status === 404 ? i18n.t.notFound : res.data.error && res.status === 400 ? res.data.error : i18n.t.failed(part);
      body.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', null, msg), h('button', { type: 'button', onclick: load }, i18n.t.retry)));
      return;
    }
    const d = res.data;
    body.replaceChildren(draw(d) || '', source(d));
  };
  load();
  return sec;
}

function source(d) {
  if (!d || !d.query) return '';
  const params = Object.entries(d.params || {}).filter(([k, v]) => v !== '' && k !== 'limit').map(([k, v]) => `${k}=${v}`).join(', ');
  return h('p', { class: 'source' }, `${i18n.t.source} `, h('code', null, d.query), params ? ` (${params})` : '');
}

function empty(text) { return h('p', { class: 'empty' }, text); }

function kpi(label, value, extra, key) {
  return h('div', { class: 'kpi', 'data-kpi': key }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), extra ? h('div', { class: 'delta' }, extra) : null);
}

function delta(now, before, hasBefore) {
  const t = i18n.t;
  if (!hasBefore) return h('span', { class: 'muted' }, t.noCompare);
  const d = now - before;
  const txt = d > 0 ? t.up(i18n.num(d)) : d < 0 ? t.down(i18n.num(-d)) : t.same;
  return h('span', { class: d > 0 ? 'up' : d < 0 ? 'down' : 'same' }, txt, h('span', { class: 'muted' }, ` ${t.vsBefore} (${i18n.num(before)})`));
}

const rowsOf = d => d.rows || [];
const title = r => r.title || r.content_id;

// ---- pages --------------------------------------------------------------------------

function pageOverview(r, base) {
  const t = i18n.t, f = filters();
  const period = qs({ from: f.from, to: f.to });
  const hasBefore = !!f.from;
  const used = (rows, kinds) => rows.filter(x => kinds.includes(x.kind));
  return [
    h('h1', null, t.nav.overview),
    filterBar(['period']),
    section(null, `${base}/contents${period}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.overviewEmpty);
      const a = rows[0];
      const count = (kinds, col) => used(rows, kinds).filter(x => x[col] > 0).length;
      return h('div', { class: 'kpis' },
        kpi(t.kpi.activePartners, i18n.num(a.active_partners), delta(a.active_partners, a.active_partners_before, hasBefore), 'active_partners'),
        kpi(t.kpi.documents, i18n.num(count(['document'], 'partners')), delta(count(['document'], 'partners'), count(['document'], 'partners_before'), hasBefore), 'documents'),
        kpi(t.kpi.videos, i18n.num(count(['video'], 'partners')), delta(count(['video'], 'partners'), count(['video'], 'partners_before'), hasBefore), 'videos'),
        kpi(t.kpi.tools, i18n.num(count(['faq', 'tool'], 'partners')), delta(count(['faq', 'tool'], 'partners'), count(['faq', 'tool'], 'partners_before'), hasBefore), 'tools'));
    }, { part: 'content-use', class: 'wide' }),
    section(null, `${base}/training`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return h('div', null, h('h2', null, t.kpi.completion), empty(t.trainingEmpty));
      const a = rows.reduce((s, x) => s + x.assigned, 0), c = rows.reduce((s, x) => s + x.completed, 0);
      return h('div', { class: 'kpis' }, kpi(t.kpi.completion, i18n.pct(a ? c / a : 0), t.completionOf(i18n.num(c), i18n.num(a)), 'completion'));
    }, { part: 'training-completion' }),
    section(null, `${base}/campaigns${period}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return h('div', null, h('h2', null, t.kpi.campaigns), empty(t.campaignsEmpty));
      const camps = new Map();
      for (const x of rows) {
        const c = camps.get(x.campaign_id) || { name: x.campaign_name || x.campaign_id, used: 0, all: 0 };
        c.all++;
        if (x.consumed > 0) c.used++;
        camps.set(x.campaign_id, c);
      }
      return h('div', null,
        h('div', { class: 'kpis' }, kpi(t.kpi.campaigns, i18n.num(camps.size), null, 'campaigns')),
        h('ul', { class: 'plain' }, [...camps].map(([id, c]) => h('li', { 'data-campaign': id }, h('strong', null, c.name), ': ', t.partnersUsing(i18n.num(c.used), i18n.num(c.all))))));
    }, { part: 'campaign-ranking' }),
    section(t.mostUsed, `${base}/contents${period}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.overviewEmpty);
      return contentTable(rows, base, 'content-use', true);
    }, { part: 'content-use', class: 'wide' }),
    h('section', { class: 'card wide' }, h('h2', null, t.quiet), empty(t.quietLater)),
  ];
}

function contentLink(base, x) {
  const kind = x.kind === 'document' ? 'documents' : x.kind === 'video' ? 'videos' : null;
  return kind ? link(`${base.replace('/api', '')}/${kind}/${encodeURIComponent(x.content_id)}`, title(x)) : title(x);
}

function contentTable(rows, base, name, withKind) {
  const t = i18n.t;
  const cols = [
    { key: 'content_id', label: t.col.content, raw: x => x.content_id, fmt: x => h('span', null, contentLink(base, x), x.title ? h('span', { class: 'id' }, ` ${x.content_id}`) : '') },
    withKind ? { key: 'kind', label: t.col.kind } : null,
    { key: 'partners', label: t.col.partners, num: true, fmt: x => i18n.num(x.partners) },
    { key: 'partner_days', label: t.col.partnerDays, num: true, fmt: x => i18n.num(x.partner_days) },
    { key: 'partners_before', label: t.col.partnersBefore, num: true, fmt: x => i18n.num(x.partners_before) },
    { key: 'last_seen', label: t.col.lastSeen, fmt: x => i18n.time(x.last_seen) },
  ].filter(Boolean);
  return table({ cols, rows, name, i18n });
}

function pageList(r, base, kind) {
  const t = i18n.t, f = filters();
  const plural = kind === 'document' ? 'documents' : 'videos';
  return [
    h('h1', null, t[plural]),
    filterBar(['period']),
    section(null, `${base}/contents${qs({ kind, from: f.from, to: f.to })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(kind === 'document' ? t.noDocuments : t.noVideos);
      return contentTable(rows, base, plural, false);
    }, { part: 'content-use', class: 'wide' }),
  ];
}

// titled is a content page's heading: its id at once, its title (contents table) once known.
function titled(base, kind, id, what) {
  const name = h('span', null);
  api(`${base}/contents${qs({ kind })}`).then(res => {
    const c = res.ok && rowsOf(res.data).find(x => x.content_id === id);
    if (c && c.title) name.textContent = c.title + ' ';
  });
  return h('h1', null, what, ': ', name, h('span', { class: 'id' }, id));
}

function pageDocument(r, base) {
  const t = i18n.t, f = filters();
  const path = `${base}/documents/${encodeURIComponent(r.id)}${qs({ from: f.from, to: f.to, partner: f.partner })}`;
  return [
    h('p', { class: 'crumbs' }, link(`/t/${encodeURIComponent(r.tenant)}/documents`, t.documents), ' / '),
    titled(base, 'document', r.id, t.document),
    filterBar(['period', 'partner']),
    section(null, path, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.docNoViewers);
      const partners = new Set(rows.map(x => x.partner_id).filter(Boolean)).size;
      const total = rows.reduce((s, x) => s + x.total_dwell_ms, 0);
      const avgMax = rows.reduce((s, x) => s + x.max_page, 0) / rows.length;
      const chartEl = h('div', { class: 'chart', role: 'img', 'aria-label': t.docChart });
      const out = h('div', null,
        h('div', { class: 'kpis' },
          kpi(t.viewersN, i18n.num(rows.length), null, 'viewers'),
          kpi(t.partnersN, i18n.num(partners), null, 'partners'),
          kpi(t.totalTime, i18n.dur(total), null, 'total_time'),
          kpi(t.avgFurthest, new Intl.NumberFormat(i18n.lang === 'ja' ? 'ja-JP' : 'en', { maximumFractionDigits: 1 }).format(avgMax), null, 'avg_furthest')),
        d.truncated ? h('p', { class: 'note' }, t.truncated(rows.length)) : null,
        h('h2', null, t.docPages),
        h('p', { class: 'legend' }, t.docChart),
        chartEl,
        table({ name: 'document-pages', i18n, rows: d.pages, cols: [
          { key: 'page', label: t.col.page, num: true, fmt: x => i18n.num(x.page) },
          { key: 'reached', label: t.col.reached, num: true, fmt: x => i18n.num(x.reached) },
          { key: 'viewers', label: t.col.readers, num: true, fmt: x => i18n.num(x.viewers) },
          { key: 'dwell_ms', label: t.col.pageDwell, num: true, fmt: x => i18n.dur(x.dwell_ms) },
        ] }),
        h('h2', null, t.docViewers),
        table({ name: 'document-viewers', i18n, rows, cols: [
          { key: 'partner_name', label: t.col.partner, raw: x => x.partner_id, fmt: x => x.partner_id ? [x.partner_name || x.partner_id, x.partner_name ? h('span', { class: 'id' }, ` ${x.partner_id}`) : ''] : '—' },
          { key: 'user_name', label: t.col.person, raw: x => x.partner_user_id || x.viewer, fmt: x => x.partner_user_id ? [x.user_name || x.partner_user_id, x.user_name ? h('span', { class: 'id' }, ` ${x.partner_user_id}`) : ''] : h('span', { class: 'muted' }, x.viewer) },
          { key: 'first_opened', label: t.col.firstOpened, fmt: x => i18n.time(x.first_opened) },
          { key: 'last_seen', label: t.col.lastSeen, fmt: x => i18n.time(x.last_seen) },
          { key: 'max_page', label: t.col.maxPage, num: true, fmt: x => x.page_count ? `${i18n.num(x.max_page)} / ${i18n.num(x.page_count)}` : i18n.num(x.max_page) },
          { key: 'pages_seen', label: t.col.pagesSeen, num: true, fmt: x => i18n.num(x.pages_seen) },
          { key: 'opens', label: t.col.opens, num: true, fmt: x => i18n.num(x.opens) },
          { key: 'total_dwell_ms', label: t.col.dwell, num: true, fmt: x => i18n.dur(x.total_dwell_ms) },
          { key: 'dwell_ms_by_page', label: t.col.dwellByPage, raw: x => x.dwell_ms_by_page, fmt: x => Object.entries(x.dwell_ms_by_page || {}).sort((a, b) => a[0] - b[0]).map(([p, ms]) => `p${p} ${i18n.dur(ms)}`).join(' · ') },
        ] }));
      requestAnimationFrame(() => pagesChart(chartEl, d.pages, i18n));
      return out;
    }, { part: 'document-views', class: 'wide' }),
  ];
}

function pageVideo(r, base) {
  const t = i18n.t;
  return [
    h('p', { class: 'crumbs' }, link(`/t/${encodeURIComponent(r.tenant)}/videos`, t.videos), ' / '),
    titled(base, 'video', r.id, t.video),
    filterBar([]),
    section(null, `${base}/videos/${encodeURIComponent(r.id)}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.videoNoData);
      const a = rows[0];
      const chartEl = h('div', { class: 'chart', role: 'img', 'aria-label': t.retentionChart });
      const drops = rows.filter(x => x.drop_rank > 0).sort((x, y) => x.drop_rank - y.drop_rank);
      const out = h('div', null,
        h('div', { class: 'kpis' },
          kpi(t.loads, i18n.num(a.loads), null, 'loads'),
          kpi(t.plays, i18n.num(a.plays), null, 'plays'),
          kpi(t.playRate, i18n.pct(a.play_rate), null, 'play_rate'),
          kpi(t.length, i18n.dur(rows.length * 1000), null, 'length')),
        h('p', { class: 'legend' }, t.retentionChart),
        chartEl,
        h('h2', null, t.dropOffs),
        drops.length ? table({ name: 'video-drop-offs', i18n, rows: drops, cols: [
          { key: 'drop_rank', label: t.col.dropRank, num: true, fmt: x => h('span', { class: 'badge' }, String(x.drop_rank)) },
          { key: 'second', label: t.col.second, num: true, fmt: x => i18n.num(x.second) },
          { key: 'drop', label: t.col.drop, num: true, fmt: x => i18n.num(x.drop) },
          { key: 'viewers', label: t.col.viewers, num: true, fmt: x => i18n.num(x.viewers) },
          { key: 'retention', label: t.col.retention, num: true, fmt: x => i18n.pct(x.retention) },
        ] }) : empty(t.noDrops),
        h('details', null, h('summary', null, t.perSecond),
          table({ name: 'video-retention', i18n, rows, cols: [
            { key: 'second', label: t.col.second, num: true, fmt: x => i18n.num(x.second) },
            { key: 'viewers', label: t.col.viewers, num: true, fmt: x => i18n.num(x.viewers) },
            { key: 'retention', label: t.col.retention, num: true, fmt: x => i18n.pct(x.retention) },
            { key: 'drop', label: t.col.drop, num: true, fmt: x => i18n.num(x.drop) },
            { key: 'drop_rank', label: t.col.dropRank, num: true, fmt: x => (x.drop_rank ? String(x.drop_rank) : '') },
          ] })));
      requestAnimationFrame(() => retentionChart(chartEl, rows, i18n));
      return out;
    }, { part: 'video-retention', class: 'wide' }),
  ];
}

function pageTraining(r, base) {
  const t = i18n.t, f = filters();
  return [
    h('h1', null, t.training),
    filterBar(['course', 'partner']),
    section(null, `${base}/training${qs({ course: f.course, partner: f.partner })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.trainingEmpty);
      const missing = rows.flatMap(x => x.not_completed.map(u => ({ course_id: x.course_id, course_title: x.course_title, partner_id: x.partner_id, partner_name: x.partner_name, partner_user_id: u })));
      return h('div', null,
        table({ name: 'training-completion', i18n, rows, cols: [
          { key: 'course_id', label: t.col.course, fmt: x => [x.course_title || x.course_id, x.course_title ? h('span', { class: 'id' }, ` ${x.course_id}`) : ''] },
          { key: 'partner_id', label: t.col.partner, fmt: x => [x.partner_name || x.partner_id, x.partner_name ? h('span', { class: 'id' }, ` ${x.partner_id}`) : ''] },
          { key: 'assigned', label: t.col.assigned, num: true, fmt: x => i18n.num(x.assigned) },
          { key: 'completed', label: t.col.completed, num: true, fmt: x => i18n.num(x.completed) },
          { key: 'completion_rate', label: t.col.rate, num: true, fmt: x => h('span', { class: 'meter-wrap' }, h('meter', { min: 0, max: 1, value: x.completion_rate }), ' ', i18n.pct(x.completion_rate)) },
          { key: 'not_completed', label: t.col.notCompleted, raw: x => x.not_completed.join(' '), fmt: x => x.not_completed.join(', ') || '—' },
        ] }),
        h('h2', null, t.notCompletedList),
        missing.length ? table({ name: 'training-not-completed', i18n, rows: missing, cols: [
          { key: 'course_id', label: t.col.course, fmt: x => x.course_title || x.course_id },
          { key: 'partner_id', label: t.col.partner, fmt: x => x.partner_name || x.partner_id },
          { key: 'partner_user_id', label: t.col.person },
        ] }) : empty(t.allCompleted));
    }, { part: 'training-completion', class: 'wide' }),
  ];
}

function pageCampaigns(r, base) {
  const t = i18n.t, f = filters();
  return [
    h('h1', null, t.campaigns),
    filterBar(['period', 'campaign']),
    section(null, `${base}/campaigns${qs({ from: f.from, to: f.to, campaign: f.campaign })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.campaignsEmpty);
      return table({ name: 'campaign-ranking', i18n, rows, cols: [
        { key: 'campaign_id', label: t.col.campaign, fmt: x => [x.campaign_name || x.campaign_id, x.campaign_name ? h('span', { class: 'id' }, ` ${x.campaign_id}`) : ''] },
        { key: 'rank', label: t.col.rank, num: true, fmt: x => i18n.num(x.rank) },
        { key: 'partner_id', label: t.col.partner, fmt: x => [x.partner_name || x.partner_id, x.partner_name ? h('span', { class: 'id' }, ` ${x.partner_id}`) : ''] },
        { key: 'consumed', label: t.col.consumed, num: true, fmt: x => `${i18n.num(x.consumed)} / ${i18n.num(x.campaign_contents)}` },
        { key: 'share', label: t.col.share, num: true, fmt: x => h('span', { class: 'meter-wrap' }, h('meter', { min: 0, max: 1, value: x.share }), ' ', i18n.pct(x.share)) },
      ] });
    }, { part: 'campaign-ranking', class: 'wide' }),
  ];
}

function pageTools(r, base) {
  const t = i18n.t, f = filters();
  return [
    h('h1', null, t.tools),
    filterBar(['period']),
    section(null, `${base}/tools${qs({ from: f.from, to: f.to })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.toolsEmpty);
      return h('div', null, h('p', { class: 'legend' }, t.toolsNote), table({ name: 'content-outcomes', i18n, rows, cols: [
        { key: 'content_id', label: t.col.content, fmt: x => [x.title || x.content_id, x.title ? h('span', { class: 'id' }, ` ${x.content_id}`) : ''] },
        { key: 'kind', label: t.col.kind },
        { key: 'partner_days', label: t.col.partnerDays, num: true, fmt: x => i18n.num(x.partner_days) },
        { key: 'partners', label: t.col.partners, num: true, fmt: x => i18n.num(x.partners) },
        { key: 'deal_correlation', label: t.col.correlation, num: true, fmt: x => i18n.corr(x.deal_correlation) },
        { key: 'won_avg_using_partners', label: t.col.wonUsers, num: true, fmt: x => i18n.money(x.won_avg_using_partners) },
        { key: 'won_avg_other_partners', label: t.col.wonOthers, num: true, fmt: x => i18n.money(x.won_avg_other_partners) },
      ] }));
    }, { part: 'content-outcomes', class: 'wide' }),
  ];
}

function pageLogin() {
  const t = i18n.t;
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'login card', onsubmit: async e => {
    e.preventDefault();
    const d = new FormData(form);
    const resp = await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: d.get('name'), password: d.get('password') }) });
    if (resp.ok) {
      // back to the page that asked for a sign-in, if this user may see its tenant
      const who = await resp.json();
      const next = new URLSearchParams(location.search).get('next') || '';
      const tenant = decodeURIComponent(next.split('/')[2] || '');
      location.assign(next.startsWith('/t/') && who.tenants.includes(tenant) ? next : '/');
      return;
    }
    msg.textContent = resp.status === 429 ? t.tooMany : t.badLogin;
    msg.hidden = false;
  } },
  h('h1', null, t.title),
  h('label', null, t.name, h('input', { name: 'name', autocomplete: 'username', required: true })),
  h('label', null, t.password, h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
  msg,
  h('button', { type: 'submit' }, t.signIn));
  return h('main', { class: 'narrow' }, h('div', { class: 'right' }, langSwitch()), form);
}

// ---- render -------------------------------------------------------------------------

async function render() {
  document.documentElement.lang = i18n.lang;
  document.title = i18n.t.title;
  const r = route();
  if (r.page === 'login') { app().replaceChildren(pageLogin()); return; }
  if (!me) {
    const res = await api('/api/me');
    if (!res.ok) { app().replaceChildren(h('main', null, empty(i18n.t.unavailable('/api/me')))); return; }
    me = res.data;
  }
  if (r.page === 'notfound') { app().replaceChildren(h('main', null, h('h1', null, i18n.t.notFound))); return; }
  const base = `/api/t/${encodeURIComponent(r.tenant)}`;
  const pages = {
    overview: pageOverview,
    documents: (r, b) => (r.id ? pageDocument(r, b) : pageList(r, b, 'document')),
    videos: (r, b) => (r.id ? pageVideo(r, b) : pageList(r, b, 'video')),
    training: pageTraining, campaigns: pageCampaigns, tools: pageTools,
  };
  app().replaceChildren(header(r), h('main', null, pages[r.page](r, base)));
}

addEventListener('popstate', render);
render();

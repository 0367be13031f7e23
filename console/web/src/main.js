// The beacon console: one page that draws every view from the JSON API under /api/.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, table, some } from './dom.js';
import { pickLang, makeI18n } from './i18n.js';
import { pagesChart, retentionChart, heatmapChart } from './charts.js';

let i18n = makeI18n(pickLang());
let me = null;
let leaving = false; // signing out: answers still in flight must not send to the login again
const app = () => document.getElementById('app');

// ---- API ----------------------------------------------------------------------------

// api answers a GET of path; the same path asked again while the page is drawn shares one
// request (the overview shows content-use in two sections), and a failed answer is not
// kept, so a retry asks again. render() starts every page with nothing shared.
let shared = new Map();
function api(path) {
  let p = shared.get(path);
  if (!p) {
    p = fetchJSON(path);
    shared.set(path, p);
    p.then(res => { if (!res.ok && shared.get(path) === p) shared.delete(path); });
  }
  return p;
}

async function fetchJSON(path) {
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
  if (!['overview', 'partners', 'people', 'documents', 'videos', 'training', 'campaigns', 'tools'].includes(r.page) || p.length > 4) r.page = 'notfound';
  if (r.page === 'people' && !r.id) r.page = 'notfound';
  return r;
}

const utcDay = d => d.toISOString().slice(0, 10);

// filters reads the filter bar's state from the URL; from/to are resolved for presets.
function filters() {
  const q = new URLSearchParams(location.search);
  const f = { period: q.get('period') || 'all', from: q.get('from') || '', to: q.get('to') || '', partner: q.get('partner') || '', campaign: q.get('campaign') || '', course: q.get('course') || '', weeks: q.get('baseline_weeks') || '', status: q.get('status') || '', limit: q.get('limit') || '' };
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

// qs is the query string of obj's set values: undefined, null and '' (an empty filter) are
// left out; 0 and false are values.
function qs(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

function go(path, keepSearch = true) {
  history.pushState(null, '', path + (keepSearch ? location.search : ''));
  render();
}

// link is an in-app link to path with the page's filters kept (href, when given in attrs,
// is the whole target instead: its own query string).
function link(path, text, attrs = {}) {
  const href = attrs.href || path + location.search;
  return h('a', { ...attrs, href, onclick: e => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(href, false); } } }, text);
}

// ---- layout -------------------------------------------------------------------------

function header(r) {
  const t = i18n.t;
  const base = `/t/${encodeURIComponent(r.tenant)}`;
  const nav = ['overview', 'partners', 'documents', 'videos', 'training', 'campaigns', 'tools'].map(p =>
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
    if (f.limit) o.limit = f.limit;
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
  if (which.includes('weeks')) kids.push(h('label', null, t.baselineWeeks, ' ', h('input', { type: 'number', name: 'baseline_weeks', value: f.weeks, min: 1, max: 520, placeholder: '8', size: 4 })));
  if (which.includes('status')) {
    kids.push(h('label', null, t.statusFilter, ' ', h('select', { name: 'status' },
      [['', t.all], ['quiet', t.quietOnly], ...STATUSES.map(s => [s, t.status[s]])].map(([v, l]) => h('option', { value: v, selected: f.status === v }, l)))));
  }
  // suggestions: every partner and campaign of the tenant, from campaign-ranking, asked
  // for when a field is first focused (a whole ranking is not worth it on every page load)
  if (which.includes('partner') || which.includes('campaign')) {
    const lists = { partner: h('datalist', { id: 'partner-ids' }), campaign: h('datalist', { id: 'campaign-ids' }) };
    kids.push(lists.partner, lists.campaign);
    const r = route();
    let asked = false;
    form.addEventListener('focusin', e => {
      if (asked || !['partner', 'campaign'].includes(e.target.name)) return;
      asked = true;
      suggest(r, lists);
    });
  }
  kids.push(h('button', { type: 'submit' }, t.apply));
  form.append(...kids);
  return form;
}

function suggest(r, lists) {
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

// directory: the names of the tenant's partners and people (saved query directory),
// fetched once per tenant and page load; lists that carry ids show these names. When it
// cannot be had, the ids are shown.
let dir = { tenant: null, p: null };
let names = { partners: new Map(), people: new Map() };
function directory() {
  const tenant = route().tenant;
  if (dir.tenant !== tenant || !dir.p) {
    const mine = { tenant, p: null };
    mine.p = api(`/api/t/${encodeURIComponent(tenant)}/directory`).then(res => {
      const d = { partners: new Map(), people: new Map() };
      if (res.ok) for (const x of rowsOf(res.data)) (x.kind === 'partner' ? d.partners : d.people).set(x.id, x);
      else mine.p = null; // asked again next time
      return d;
    });
    dir = mine;
  }
  return dir.p;
}
const personName = id => (names.people.get(id) || {}).name || '';
const partnerName = id => (names.partners.get(id) || {}).name || '';

// section renders a titled block whose content comes from one API call; while it loads
// it says so, and when ClickHouse cannot answer it says which part is unavailable.
function section(title, path, draw, opts = {}) {
  const body = h('div', { class: 'body' }, h('p', { class: 'loading' }, i18n.t.loading));
  const sec = h('section', { class: 'card ' + (opts.class || ''), 'data-part': opts.part || '' }, title ? h('h2', null, title) : null, body);
  const load = async () => {
    body.replaceChildren(h('p', { class: 'loading' }, i18n.t.loading));
    const [res] = await Promise.all([api(path), route().tenant ? directory().then(d => { names = d; }) : null]);
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
  // a kept answer (beacon keep) says when it was computed
  const kept = d.kept_at ? h('span', { class: 'kept' }, ' · ', i18n.t.keptAt(i18n.time(d.kept_at))) : '';
  return h('p', { class: 'source' }, `${i18n.t.source} `, h('code', null, d.query), params ? ` (${params})` : '', kept);
}

function empty(text) { return h('p', { class: 'empty' }, text); }

// warn marks a figure that asks for attention with a sign as well as a colour.
function warn(content) { return h('span', { class: 'warn' }, h('span', { 'aria-hidden': 'true' }, '⚠'), ' ', content); }

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
    section(null, `${base}/activity${period}`, d => {
      const a = rowsOf(d)[0];
      if (!a || (!a.events && !a.bot_events && !a.events_before)) return empty(t.activityEmpty);
      return h('div', { class: 'kpis' },
        kpi(t.kpi.events, i18n.num(a.events), delta(a.events, a.events_before, hasBefore), 'events'),
        kpi(t.kpi.people, i18n.num(a.people), delta(a.people, a.people_before, hasBefore), 'people'),
        kpi(t.kpi.bots, i18n.num(a.bot_events), delta(a.bot_events, a.bot_events_before, hasBefore), 'bot_events'));
    }, { part: 'tenant-activity', class: 'wide' }),
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
    // the partner rows only, without the stopped contents the overview does not show (about
    // half of partner-activity's cost)
    section(t.quiet, `${base}/partners${qs({ from: f.from, to: f.to, baseline_weeks: f.weeks, level: 'partner', stopped: 0 })}`, d => {
      const quiet = rowsOf(d).filter(x => x.level === 'partner' && (x.status === 'silent' || x.status === 'cooling'));
      return h('div', null, h('p', { class: 'legend' }, windowText(d.params)),
        quiet.length ? h('ul', { class: 'plain quiet' }, quiet.map(x => h('li', { 'data-quiet': x.partner_id },
          statusBadge(x.status), ' ', link(partnerPath(x.partner_id), x.partner_name || x.partner_id), ': ', reasonText(x, d.params))))
          : empty(t.noneQuiet));
    }, { part: 'partner-activity', class: 'wide' }),
  ];
}

// ---- partners and people ------------------------------------------------------------

const STATUSES = ['active', 'cooling', 'silent', 'never started'];
const USED_SHOWN = 10;
const GLYPH = { active: '●', cooling: '◐', silent: '○', 'never started': '–' };
const tenantBase = () => `/t/${encodeURIComponent(route().tenant)}`;
const partnerPath = id => `${tenantBase()}/partners/${encodeURIComponent(id)}`;
const personPath = id => `${tenantBase()}/people/${encodeURIComponent(id)}`;

// statusBadge shows a status as a shape and a word, so it reads without colour.
function statusBadge(s) {
  return h('span', { class: `status s-${String(s).replace(' ', '-')}`, 'data-status': s }, h('span', { 'aria-hidden': 'true' }, GLYPH[s] || '?'), ' ', i18n.t.status[s] || s);
}

// windowText says which days partner-activity measured (its params: to, days, baseline_weeks).
function windowText(p) {
  return i18n.t.window(i18n.num(p.days), i18n.day(p.to), i18n.num(p.baseline_weeks));
}

// reasonText: the query's reason (English), or the same figures in the chosen language.
function reasonText(x, p) {
  return i18n.lang === 'en' ? x.reason : i18n.t.reason(x, p, i18n);
}

const named = (name, id) => (name ? [name, h('span', { class: 'id' }, ` ${id}`)] : id);
// anonymous names a device no partner or person is known for by its viewer key (v:<id>).
const anonymous = viewer => h('span', { class: 'muted', title: i18n.t.anonymousHint }, i18n.t.anonymous(String(viewer).replace(/^v:/, '')));
const personLink = id => link(personPath(id), named(personName(id), id), { 'data-person': id });
const personLinks = ids => (ids && ids.length ? ids.map((id, i) => [i ? ', ' : '', personLink(id)]) : '—');
// courseLink sets the training page's course filter (its scores follow it).
const courseLink = (id, title) => link(location.pathname, named(title, id),
  { href: location.pathname + qs({ ...Object.fromEntries(new URLSearchParams(location.search)), course: id }), 'data-course': id });
// partnerLinks names partners by link, the first USED_SHOWN of them (a content's users can be
// every partner of the tenant; the CSV has all).
const partnerLinks = ids => (ids && ids.length ? some(ids, USED_SHOWN, id => link(partnerPath(id), named(partnerName(id), id), { 'data-partner': id }),
  n => h('span', { class: 'muted' }, i18n.t.andMore(i18n.num(n)))) : '—');

function activityCols(p, level) {
  const t = i18n.t;
  return [
    level === 'partner'
      ? { key: 'partner_id', label: t.col.partner, fmt: x => link(partnerPath(x.partner_id), named(x.partner_name, x.partner_id)) }
      : { key: 'person', label: t.col.person, fmt: x => link(personPath(x.person), named(x.person_name, x.person)) },
    { key: 'status', label: t.col.status, fmt: x => statusBadge(x.status) },
    { key: 'reason', label: t.col.reason, fmt: x => reasonText(x, p) },
    { key: 'last_touch', label: t.col.lastTouch, fmt: x => i18n.time(x.last_touch) },
    { key: 'touches', label: t.col.touches, num: true, fmt: x => i18n.num(x.touches) },
    { key: 'days_active', label: t.col.daysActive, num: true, fmt: x => `${i18n.num(x.days_active)} / ${i18n.num(p.days)}` },
    { key: 'expected_days', label: t.col.expectedDays, num: true, fmt: x => i18n.num(x.expected_days) },
    level === 'partner' ? { key: 'people_active', label: t.col.peopleActive, num: true, fmt: x => `${i18n.num(x.people_active)} / ${i18n.num(x.people_known)}` } : null,
    level === 'partner' ? { key: 'went_quiet', label: t.col.wentQuiet, raw: x => x.went_quiet.join(' '), fmt: x => personLinks(x.went_quiet) } : null,
    { key: 'stopped', label: t.col.stopped, raw: x => x.stopped.join(' '), fmt: x => x.stopped.join(', ') || '—' },
  ].filter(Boolean);
}

function pagePartners(r, base) {
  const t = i18n.t, f = filters();
  return [
    h('h1', null, t.nav.partners),
    filterBar(['period', 'partner', 'weeks', 'status']),
    // the partner rows only: the page lists no person (its people are on the partner's page)
    section(null, `${base}/partners${qs({ from: f.from, to: f.to, partner: f.partner, baseline_weeks: f.weeks, level: 'partner' })}`, d => {
      const all = rowsOf(d);
      if (!all.length) return empty(t.partnersEmpty);
      const rows = all.filter(x => !f.status || x.status === f.status || (f.status === 'quiet' && (x.status === 'silent' || x.status === 'cooling')));
      return h('div', null,
        h('p', { class: 'legend' }, windowText(d.params)),
        h('div', { class: 'kpis' }, STATUSES.map(s => kpi([statusBadge(s)], i18n.num(all.filter(x => x.status === s).length), null, `status-${s.replace(' ', '-')}`))),
        rows.length ? table({ name: 'partner-activity', i18n, rows, cols: activityCols(d.params, 'partner') }) : empty(t.noStatus));
    }, { part: 'partner-activity', class: 'wide' }),
  ];
}

function pagePartner(r, base) {
  const t = i18n.t, f = filters();
  const name = h('span', null);
  const id = encodeURIComponent(r.id);
  return [
    h('p', { class: 'crumbs' }, link(`${tenantBase()}/partners`, t.nav.partners), ' / '),
    h('h1', null, t.partnerTitle, ': ', name, h('span', { class: 'id' }, r.id)),
    filterBar(['period', 'weeks']),
    section(null, `${base}/partners/${id}${qs({ from: f.from, to: f.to, baseline_weeks: f.weeks })}`, d => {
      const rows = rowsOf(d), p = rows.find(x => x.level === 'partner');
      if (!p) return empty(t.partnerUnknown);
      if (p.partner_name) name.textContent = p.partner_name + ' ';
      const people = rows.filter(x => x.level === 'person');
      return h('div', null,
        h('p', { class: 'legend' }, windowText(d.params)),
        h('div', { class: 'kpis' },
          kpi(t.col.status, statusBadge(p.status), reasonText(p, d.params), 'status'),
          kpi(t.col.lastTouch, i18n.time(p.last_touch), null, 'last_touch'),
          kpi(t.col.touches, i18n.num(p.touches), null, 'touches'),
          kpi(t.col.daysActive, i18n.num(p.days_active), t.ofDays(i18n.num(d.params.days), i18n.num(p.expected_days)), 'days_active'),
          kpi(t.col.peopleActive, i18n.num(p.people_active), t.ofKnown(i18n.num(p.people_known)), 'people_active')),
        p.went_quiet.length ? h('p', null, t.col.wentQuiet, ': ', personLinks(p.went_quiet)) : null,
        p.stopped.length ? h('p', null, t.col.stopped, ': ', p.stopped.join(', ')) : null,
        h('h2', null, t.people),
        people.length ? table({ name: 'partner-people', i18n, rows: people, cols: activityCols(d.params, 'person') }) : empty(t.noPeople));
    }, { part: 'partner-activity', class: 'wide' }),
    section(t.consumed, `${base}/partners/${id}/timeline${qs({ from: f.from, to: f.to, limit: f.limit })}`, d =>
      (rowsOf(d).length ? timeline(d, `${base}/partners/${id}/timeline${qs({ from: f.from, to: f.to, limit: f.limit })}`, true) : empty(t.timelineEmpty)),
    { part: 'contact-timeline', class: 'wide' }),
    section(t.deals, `${base}/partners/${id}/deals${qs({ from: f.from, to: f.to })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.noDeals);
      const won = rows.filter(x => x.stage === 'won');
      const currencies = [...new Set(won.map(x => x.currency))];
      return h('div', null,
        h('div', { class: 'kpis' },
          kpi(t.dealsN, i18n.num(rows.length), null, 'deals'),
          kpi(t.wonN, i18n.num(won.length), currencies.length === 1 ? `${i18n.money(won.reduce((s, x) => s + Number(x.amount), 0))} ${currencies[0]}` : null, 'won')),
        h('p', { class: 'legend' }, t.dealsNote(i18n.num(d.params.lookback))),
        table({ name: 'partner-deals', i18n, rows, cols: [
          { key: 'deal_id', label: t.col.deal },
          { key: 'stage', label: t.col.stage },
          { key: 'amount', label: t.col.amount, num: true, fmt: x => `${i18n.money(x.amount)} ${x.currency}` },
          { key: 'closed_on', label: t.col.closedOn, fmt: x => i18n.day(x.closed_on) },
          { key: 'contents_used', label: t.col.contentsUsed, num: true, fmt: x => i18n.num(x.contents_used) },
          // the most used first, at most USED_SHOWN of them (the CSV has all): a busy partner used
          // hundreds of contents before a close, and a cell of every one made the page slow
          { key: 'used', label: t.col.usedBefore, raw: x => x.used.join(' '), fmt: x => (x.used.length ? some(x.used, USED_SHOWN,
            (c, i) => h('span', { 'data-content': c }, named(x.used_titles[i], c), ` (${t.daysN(i18n.num(x.used_days[i]))})`),
            n => h('span', { class: 'muted' }, t.andMore(i18n.num(n)))) : '—') },
        ] }));
    }, { part: 'partner-deals', class: 'wide' }),
  ];
}

function pagePerson(r, base) {
  const t = i18n.t, f = filters();
  const name = h('span', null), crumb = h('span', null);
  const path = `${base}/people/${encodeURIComponent(r.id)}${qs({ from: f.from, to: f.to, limit: f.limit })}`;
  return [
    h('p', { class: 'crumbs' }, link(`${tenantBase()}/partners`, t.nav.partners), ' / ', crumb),
    h('h1', null, t.personTitle, ': ', name, h('span', { class: 'id' }, r.id)),
    filterBar(['period']),
    section(t.timeline, path, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.personEmpty);
      if (rows[0].person_name) name.textContent = rows[0].person_name + ' ';
      if (rows[0].partner_id) crumb.replaceChildren(link(partnerPath(rows[0].partner_id), rows[0].partner_name || rows[0].partner_id), ' / ');
      return timeline(d, path, false);
    }, { part: 'contact-timeline', class: 'wide' }),
  ];
}

// timeline shows contact-timeline's touches, with an "older" button that asks for the
// page after the last row's cursor and adds it below.
function timeline(d, path, withPerson) {
  const t = i18n.t;
  const rows = rowsOf(d).slice();
  const limit = Number(d.params.limit);
  const holder = h('div');
  const count = h('p', { class: 'legend', 'data-count': '' });
  const more = h('div', { class: 'more' });
  const contentPath = x => (x.content_type === 'document' ? 'documents' : x.content_type === 'video' ? 'videos' : null);
  const cols = [
    { key: 'at', label: t.col.when, fmt: x => i18n.time(x.at) },
    withPerson ? { key: 'person', label: t.col.person, fmt: x => link(personPath(x.person), named(x.person_name, x.person)) } : null,
    { key: 'content_id', label: t.col.content, fmt: x => (contentPath(x) ? link(`${tenantBase()}/${contentPath(x)}/${encodeURIComponent(x.content_id)}`, named(x.title, x.content_id)) : named(x.title, x.content_id || '—')) },
    { key: 'content_type', label: t.col.kind },
    { key: 'sessions', label: t.col.sessions, num: true, fmt: x => i18n.num(x.sessions) },
    { key: 'pages_seen', label: t.col.pagesSeen, num: true, fmt: x => (x.page_count ? `${i18n.num(x.pages_seen)} / ${i18n.num(x.page_count)}` : x.pages_seen ? i18n.num(x.pages_seen) : '—') },
    { key: 'dwell_ms', label: t.col.dwell, num: true, fmt: x => (x.dwell_ms ? i18n.dur(x.dwell_ms) : '—') },
    { key: 'seconds_watched', label: t.col.watched, num: true, fmt: x => (x.seconds_watched ? (x.duration ? `${i18n.dur(x.seconds_watched * 1000)} / ${i18n.dur(x.duration * 1000)}` : i18n.dur(x.seconds_watched * 1000)) : '—') },
    { key: 'completion', label: t.col.completionCol, num: true, fmt: x => i18n.pct(x.completion) },
    { key: 'clicks', label: t.col.clicks, num: true, fmt: x => i18n.num(x.clicks) },
    // what was searched in the touch: each text with its results shown (and the result opened)
    { key: 'queries', label: t.col.searches, fmt: x => (x.queries || []).map(q => `${q.query} (${i18n.num(q.results)}${q.clicked ? ` → ${q.clicked}` : ''})`).join('; ') || '—' },
    { key: 'devices', label: t.col.devices, fmt: x => x.devices.join(', ') || '—' },
    { key: 'campaigns', label: t.col.campaign, fmt: x => x.campaigns.join(', ') || '—' },
    { key: 'via_link', label: t.col.viaLink, fmt: x => (x.via_link ? t.yes : '—') },
    { key: 'stitched', label: t.col.stitched, fmt: x => (x.stitched ? h('span', { title: t.stitchedHint }, '⇆ ', x.viewer) : '—') },
  ].filter(Boolean);
  let last = rows.length;
  const draw = () => {
    holder.replaceChildren(table({ name: 'contact-timeline', i18n, rows, cols }));
    count.textContent = t.touchesShown(i18n.num(rows.length));
    count.dataset.count = String(rows.length);
    more.replaceChildren(last >= limit
      ? h('button', { type: 'button', class: 'older', onclick: older }, t.older)
      : h('p', { class: 'muted end' }, t.logEnd));
  };
  async function older() {
    more.replaceChildren(h('p', { class: 'loading' }, t.loading));
    const res = await api(path + (path.includes('?') ? '&' : '?') + 'before=' + encodeURIComponent(rows[rows.length - 1].cursor));
    if (!res.ok) {
      more.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', null, res.status === 503 || res.status === 0 ? t.unavailable('contact-timeline') : t.failed('contact-timeline')), h('button', { type: 'button', onclick: older }, t.retry)));
      return;
    }
    last = rowsOf(res.data).length;
    rows.push(...rowsOf(res.data));
    draw();
  }
  draw();
  return h('div', null, count, holder, more);
}

// reach: which known people of each partner opened a content and which did not.
function reachSection(base, id) {
  const t = i18n.t, f = filters();
  return section(t.reachTitle, `${base}/reach/${encodeURIComponent(id)}${qs({ from: f.from, to: f.to })}`, d => {
    const rows = rowsOf(d);
    if (!rows.length) return empty(t.reachEmpty);
    const known = rows.reduce((s, x) => s + x.people_known, 0), reached = rows.reduce((s, x) => s + x.people_reached, 0);
    return h('div', null,
      h('div', { class: 'kpis' },
        kpi(t.peopleReached, i18n.num(reached), t.ofKnown(i18n.num(known)), 'people_reached'),
        kpi(t.partnersReached, i18n.num(rows.filter(x => x.people_reached > 0 || x.other_people.length > 0).length), t.ofPartners(i18n.num(rows.length)), 'partners_reached')),
      h('p', { class: 'legend' }, t.reachNote),
      table({ name: 'content-reach', i18n, rows, cols: [
        { key: 'partner_id', label: t.col.partner, fmt: x => link(partnerPath(x.partner_id), named(x.partner_name, x.partner_id)) },
        { key: 'people_reached', label: t.col.reachedKnown, num: true, fmt: x => `${i18n.num(x.people_reached)} / ${i18n.num(x.people_known)}` },
        { key: 'reach', label: t.col.reach, num: true, fmt: x => (x.reach === null ? '—' : h('span', { class: 'meter-wrap' }, h('meter', { min: 0, max: 1, value: x.reach }), ' ', i18n.pct(x.reach))) },
        { key: 'opened', label: t.col.opened, raw: x => x.opened.join(' '), fmt: x => personLinks(x.opened) },
        { key: 'not_opened', label: t.col.notOpened, raw: x => x.not_opened.join(' '), fmt: x => personLinks(x.not_opened) },
        { key: 'other_people', label: t.col.otherPeople, raw: x => x.other_people.join(' '), fmt: x => personLinks(x.other_people) },
        { key: 'touches', label: t.col.touches, num: true, fmt: x => i18n.num(x.touches) },
        { key: 'top_person', label: t.col.topPerson, fmt: x => (x.top_person ? [personLink(x.top_person), ` (${i18n.pct(x.top_share)})`] : '—') },
        { key: 'rests_on_one_person', label: t.col.onePerson, num: true, fmt: x => (x.rests_on_one_person ? h('span', { class: 'status s-cooling' }, h('span', { 'aria-hidden': 'true' }, '⚠'), ' ', t.yes) : t.no) },
      ] }));
  }, { part: 'content-reach', class: 'wide' });
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
        d.truncated ? h('p', { class: 'note', 'data-note': 'truncated' }, t.truncatedDoc(i18n.num(rows.length))) : null,
        h('div', { class: 'kpis' },
          kpi(t.viewersN, i18n.num(rows.length) + (d.truncated ? '+' : ''), null, 'viewers'),
          kpi(t.partnersN, i18n.num(partners), null, 'partners'),
          kpi(t.totalTime, i18n.dur(total), null, 'total_time'),
          kpi(t.avgFurthest, new Intl.NumberFormat(i18n.lang === 'ja' ? 'ja-JP' : 'en', { maximumFractionDigits: 1 }).format(avgMax), null, 'avg_furthest')),
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
          { key: 'user_name', label: t.col.person, raw: x => x.partner_user_id || x.viewer, fmt: x => x.partner_user_id ? link(personPath(x.partner_user_id), named(x.user_name, x.partner_user_id)) : anonymous(x.viewer) },
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
    reachSection(base, r.id),
    versionsSection(t.docVersions, `${base}/versions${qs({ content: r.id })}`, false),
  ];
}

function pageVideo(r, base) {
  const t = i18n.t;
  return [
    h('p', { class: 'crumbs' }, link(`/t/${encodeURIComponent(r.tenant)}/videos`, t.videos), ' / '),
    titled(base, 'video', r.id, t.video),
    filterBar(['period']),
    section(null, `${base}/videos/${encodeURIComponent(r.id)}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.videoNoData);
      const a = rows[0];
      const chartEl = h('div', { class: 'chart', role: 'img', 'aria-label': t.retentionChart });
      const drops = rows.filter(x => x.drop_rank > 0).sort((x, y) => x.drop_rank - y.drop_rank);
      const out = h('div', null,
        h('p', { class: 'legend' }, t.retentionAllTime),
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
    videoViewers(base, r.id),
    reachSection(base, r.id),
  ];
}

// videoViewers: who watched the video; selecting a viewer draws that viewer's own
// heatmap (viewer-seconds): the seconds they played, replays marked.
function videoViewers(base, id) {
  const t = i18n.t;
  const vpath = `${base}/videos/${encodeURIComponent(id)}`;
  return section(t.videoViewers, `${vpath}/viewers`, d => {
    const rows = rowsOf(d);
    if (!rows.length) return empty(t.videoNoViewers);
    const heat = h('div', { class: 'heat', 'aria-live': 'polite' }, h('p', { class: 'legend' }, t.pickViewer));
    let selected = null;
    const who = x => (x.partner_user_id ? named(x.user_name || personName(x.partner_user_id), x.partner_user_id) : anonymous(x.viewer));
    const show = async (x, btn) => {
      if (selected) selected.setAttribute('aria-pressed', 'false');
      selected = btn;
      btn.setAttribute('aria-pressed', 'true');
      heat.replaceChildren(h('p', { class: 'loading' }, t.loading));
      const q = x.partner_user_id && x.viewer === `u:${x.partner_user_id}` ? { person: x.partner_user_id } : { viewer: x.viewer };
      const res = await api(`${vpath}/seconds${qs(q)}`);
      if (selected !== btn) return;
      if (!res.ok) {
        heat.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', null, res.status === 503 || res.status === 0 ? t.unavailable('viewer-seconds') : res.data.error || t.failed('viewer-seconds')), h('button', { type: 'button', onclick: () => show(x, btn) }, t.retry)));
        return;
      }
      const secs = rowsOf(res.data);
      if (!secs.length) { heat.replaceChildren(h('h3', null, t.heatmapOf, ' ', who(x)), empty(t.noPlays), source(res.data)); return; }
      const watched = secs.filter(s => s.plays > 0).length, again = secs.filter(s => s.replayed).length;
      const chartEl = h('div', { class: 'chart', role: 'img', 'aria-label': t.heatmapChart });
      heat.replaceChildren(
        h('h3', { 'data-heatmap': x.viewer }, t.heatmapOf, ' ', who(x)),
        h('div', { class: 'kpis' },
          kpi(t.secondsWatched, i18n.num(watched), t.ofSeconds(i18n.num(secs.length)), 'heat_watched'),
          kpi(t.replayedSeconds, i18n.num(again), null, 'heat_replayed')),
        h('p', { class: 'legend' }, t.heatmapChart),
        chartEl,
        h('details', null, h('summary', null, t.perSecond),
          table({ name: 'viewer-seconds', i18n, rows: secs, cols: [
            { key: 'second', label: t.col.second, num: true, fmt: s => i18n.num(s.second) },
            { key: 'plays', label: t.col.plays, num: true, fmt: s => i18n.num(s.plays) },
            { key: 'replayed', label: t.replayed, num: true, fmt: s => (s.replayed ? '↻ ' + t.yes : '—') },
          ] })),
        source(res.data));
      requestAnimationFrame(() => heatmapChart(chartEl, secs, i18n));
    };
    return h('div', null,
      d.truncated ? h('p', { class: 'note' }, t.truncated(rows.length)) : null,
      table({ name: 'video-viewers', i18n, rows, cols: [
        { key: 'viewer', label: t.col.heatmap, fmt: x => h('button', { type: 'button', class: 'pick', 'aria-pressed': 'false', 'data-viewer': x.viewer, onclick: e => show(x, e.currentTarget) }, t.showHeatmap) },
        { key: 'partner_name', label: t.col.partner, raw: x => x.partner_id, fmt: x => (x.partner_id ? link(partnerPath(x.partner_id), named(x.partner_name, x.partner_id)) : '—') },
        { key: 'user_name', label: t.col.person, raw: x => x.partner_user_id || x.viewer, fmt: x => (x.partner_user_id ? link(personPath(x.partner_user_id), who(x)) : anonymous(x.viewer)) },
        { key: 'first_seen', label: t.col.firstSeen, fmt: x => i18n.time(x.first_seen) },
        { key: 'last_seen', label: t.col.lastSeen, fmt: x => i18n.time(x.last_seen) },
        { key: 'seconds_watched', label: t.col.watched, num: true, fmt: x => i18n.dur(x.seconds_watched * 1000) },
        { key: 'furthest', label: t.col.furthest, num: true, fmt: x => i18n.dur(x.furthest * 1000) },
        { key: 'completion', label: t.col.completionCol, num: true, fmt: x => i18n.pct(x.completion) },
        { key: 'ended', label: t.col.ended, num: true, fmt: x => (x.ended ? t.yes : t.no) },
      ] }),
      heat);
  }, { part: 'video-viewers', class: 'wide' });
}

function pageTraining(r, base) {
  const t = i18n.t, f = filters();
  return [
    h('h1', null, t.nav.training),
    filterBar(['course', 'partner']),
    section(t.training, `${base}/training${qs({ course: f.course, partner: f.partner })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.trainingEmpty);
      const missing = rows.flatMap(x => x.not_completed.map(u => ({ course_id: x.course_id, course_title: x.course_title, partner_id: x.partner_id, partner_name: x.partner_name, partner_user_id: u })));
      return h('div', null,
        table({ name: 'training-completion', i18n, rows, cols: [
          { key: 'course_id', label: t.col.course, fmt: x => courseLink(x.course_id, x.course_title) },
          { key: 'partner_id', label: t.col.partner, fmt: x => [x.partner_name || x.partner_id, x.partner_name ? h('span', { class: 'id' }, ` ${x.partner_id}`) : ''] },
          { key: 'assigned', label: t.col.assigned, num: true, fmt: x => i18n.num(x.assigned) },
          { key: 'completed', label: t.col.completed, num: true, fmt: x => i18n.num(x.completed) },
          { key: 'completion_rate', label: t.col.rate, num: true, fmt: x => h('span', { class: 'meter-wrap' }, h('meter', { min: 0, max: 1, value: x.completion_rate }), ' ', i18n.pct(x.completion_rate)) },
          { key: 'not_completed', label: t.col.notCompleted, raw: x => x.not_completed.join(' '), fmt: x => personLinks(x.not_completed) },
        ] }),
        h('h2', null, t.notCompletedList),
        missing.length ? table({ name: 'training-not-completed', i18n, rows: missing, cols: [
          { key: 'course_id', label: t.col.course, fmt: x => x.course_title || x.course_id },
          { key: 'partner_id', label: t.col.partner, fmt: x => x.partner_name || x.partner_id },
          { key: 'partner_user_id', label: t.col.person, fmt: x => personLink(x.partner_user_id) },
        ] }) : empty(t.allCompleted));
    }, { part: 'training-completion', class: 'wide' }),
    // a tenant's every course and partner is too much to read at once (40,000 rows on the
    // bench's data): the scores follow the course (or partner) chosen
    !f.course && !f.partner ? h('section', { class: 'card wide', 'data-part': 'training-scores' }, h('h2', null, t.scores), h('p', { class: 'empty' }, t.scoresPick)) :
    section(t.scores, `${base}/training/scores${qs({ course: f.course, partner: f.partner })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.scoresEmpty);
      return h('div', null, h('p', { class: 'legend' }, t.scoresNote), table({ name: 'training-scores', i18n, rows, cols: [
        { key: 'course_id', label: t.col.course, fmt: x => named(x.course_title, x.course_id) },
        { key: 'partner_id', label: t.col.partner, fmt: x => (x.partner_id ? link(partnerPath(x.partner_id), named(x.partner_name, x.partner_id)) : '—') },
        { key: 'people', label: t.col.scoredPeople, num: true, fmt: x => i18n.num(x.people) },
        { key: 'attempts', label: t.col.attempts, num: true, fmt: x => i18n.num(x.attempts) },
        { key: 'avg_score', label: t.col.avgScore, num: true, fmt: x => (x.avg_score === null ? '—' : i18n.num(x.avg_score)) },
        { key: 'min_score', label: t.col.minScore, num: true, fmt: x => (x.min_score === null ? '—' : i18n.num(x.min_score)) },
        { key: 'passed', label: t.col.passed, num: true, fmt: x => i18n.num(x.passed) },
        { key: 'failed', label: t.col.failed, num: true, fmt: x => (x.failed ? warn(i18n.num(x.failed)) : i18n.num(x.failed)) },
        { key: 'failed_people', label: t.col.failedPeople, raw: x => x.failed_people.join(' '), fmt: x => personLinks(x.failed_people) },
      ] }));
    }, { part: 'training-scores', class: 'wide' }),
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
    section(t.searchGaps, `${base}/searches${qs({ from: f.from, to: f.to })}`, d => {
      const rows = rowsOf(d);
      if (!rows.length) return empty(t.searchesEmpty);
      return h('div', null, h('p', { class: 'legend' }, t.searchNote), table({ name: 'search-gaps', i18n, rows, cols: [
        { key: 'partner_id', label: t.col.partner, fmt: x => (x.partner_id ? link(partnerPath(x.partner_id), named(x.partner_name, x.partner_id)) : h('span', { class: 'muted' }, t.anonymousSearch)) },
        { key: 'query', label: t.col.query },
        { key: 'searches', label: t.col.searches, num: true, fmt: x => i18n.num(x.searches) },
        { key: 'searchers', label: t.col.searchers, num: true, fmt: x => i18n.num(x.searchers) },
        { key: 'zero_results', label: t.col.zeroResults, num: true, fmt: x => (x.zero_results ? warn(i18n.num(x.zero_results)) : i18n.num(x.zero_results)) },
        { key: 'no_open', label: t.col.noOpen, num: true, fmt: x => i18n.num(x.no_open) },
        { key: 'last_searched', label: t.col.lastSearched, fmt: x => i18n.time(x.last_searched) },
      ] }));
    }, { part: 'search-gaps', class: 'wide' }),
    onDemand(t.toolVersions, () => versionsSection(null, `${base}/versions${qs({ kind: 'tool' })}`, true), 'tool-versions'),
  ];
}

// onDemand is a titled block whose content is built when it is first opened: for a
// secondary answer that costs as much as the rest of its page.
function onDemand(title, build, part) {
  let built = false;
  const d = h('details', { class: 'card wide on-demand', 'data-part': part }, h('summary', null, h('h2', null, title)));
  d.addEventListener('toggle', () => {
    if (d.open && !built) { built = true; d.append(build()); }
  });
  return d;
}

// versionsSection shows content-versions: every version with its use, and the partners still
// on one that is not the latest; withContent adds the content's column (for a list of several).
function versionsSection(title, path, withContent) {
  const t = i18n.t;
  return section(title, path, d => {
    const rows = rowsOf(d);
    if (!rows.length) return empty(t.versionsEmpty);
    return h('div', null, h('p', { class: 'legend' }, t.versionsNote), table({ name: 'content-versions', i18n, rows, cols: [
      withContent ? { key: 'content_id', label: t.col.content, fmt: x => named(x.title, x.content_id) } : null,
      withContent ? { key: 'content_type', label: t.col.kind } : null,
      { key: 'version', label: t.col.version },
      { key: 'latest', label: t.col.latest, fmt: x => (x.latest ? t.yes : t.no) },
      { key: 'first_used', label: t.col.firstUsed, fmt: x => i18n.time(x.first_used) },
      { key: 'last_used', label: t.col.lastUsed, fmt: x => i18n.time(x.last_used) },
      { key: 'viewers', label: t.col.viewers, num: true, fmt: x => i18n.num(x.viewers) },
      { key: 'partners', label: t.col.usedBy, raw: x => x.partners.join(' '), fmt: x => partnerLinks(x.partners) },
      { key: 'partners_outdated', label: t.col.outdated, raw: x => x.partners_outdated.join(' '),
        fmt: x => (x.partners_outdated.length ? warn(partnerLinks(x.partners_outdated)) : '—') },
    ].filter(Boolean) }));
  }, { part: 'content-versions', class: 'wide' });
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
  shared = new Map();
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
    partners: (r, b) => (r.id ? pagePartner(r, b) : pagePartners(r, b)),
    people: pagePerson,
    documents: (r, b) => (r.id ? pageDocument(r, b) : pageList(r, b, 'document')),
    videos: (r, b) => (r.id ? pageVideo(r, b) : pageList(r, b, 'video')),
    training: pageTraining, campaigns: pageCampaigns, tools: pageTools,
  };
  app().replaceChildren(header(r), h('main', null, pages[r.page](r, base)));
}

addEventListener('popstate', render);
render();

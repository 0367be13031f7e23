// Small DOM helpers: elements are built with text nodes only, never from HTML strings,
// so nothing from the data can become markup.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

// some lists the first max items, each(item, i), separated by commas, then more(n) for the
// n items left out (nothing when none are): a cell names a few and counts the rest.
export function some(items, max, each, more) {
  const shown = items.slice(0, max).map((x, i) => [i ? ', ' : '', each(x, i)]);
  return items.length > max ? [shown, ' ', more(items.length - max)] : shown;
}

// csvCell quotes a value for CSV (RFC 4180).
const csvCell = v => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
};

// table renders rows as a sortable table with a CSV download of every row, in the order
// shown. cols: [{key, label, fmt(row) -> text|Node, raw(row) -> value for CSV and sorting,
// num: bool}]. Each cell carries its raw value in data-v. It draws the first `page` rows
// (100) with buttons for more: a document's thousand viewers are a CSV's work, and a
// browser lays out a thousand-row table again each time anything on the page is measured.
export function table({ cols, rows, name, caption, i18n, sort: initial, page = 100 }) {
  let sortKey = initial ? initial.key : null;
  let dir = initial ? initial.dir : 1;
  let limit = page;
  const more = h('div', { class: 'table-more' });
  const raw = (c, r) => (c.raw ? c.raw(r) : r[c.key]);
  const tbody = h('tbody');
  const heads = cols.map(c => {
    const btn = h('button', { type: 'button', class: 'sort', title: i18n.t.sortBy(c.label), onclick: () => { dir = sortKey === c.key ? -dir : (c.num ? -1 : 1); sortKey = c.key; render(); } }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }));
    return h('th', { scope: 'col', class: c.num ? 'num' : null, 'data-key': c.key }, btn);
  });
  const sorted = () => {
    if (!sortKey) return rows.slice();
    const c = cols.find(x => x.key === sortKey);
    return rows.slice().sort((a, b) => {
      const x = raw(c, a), y = raw(c, b);
      if (x === y) return 0;
      if (x === null || x === undefined || x === '') return 1;
      if (y === null || y === undefined || y === '') return -1;
      if (c.num) return (Number(x) - Number(y)) * dir;
      return String(x).localeCompare(String(y), i18n.lang) * dir;
    });
  };
  let shown = [];
  function render() {
    shown = sorted();
    heads.forEach((th, i) => {
      const c = cols[i];
      const on = c.key === sortKey;
      th.setAttribute('aria-sort', on ? (dir > 0 ? 'ascending' : 'descending') : 'none');
      th.querySelector('.arrow').textContent = on ? (dir > 0 ? ' ▲' : ' ▼') : '';
    });
    tbody.replaceChildren(...shown.slice(0, limit).map(r => h('tr', null, cols.map(c => {
      const v = raw(c, r);
      return h('td', { class: c.num ? 'num' : null, 'data-v': v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v) }, c.fmt ? c.fmt(r) : v === null || v === undefined || v === '' ? '—' : String(v));
    }))));
    const hidden = shown.length - limit;
    more.replaceChildren(...(hidden > 0 ? [
      h('span', { class: 'muted' }, i18n.t.showing(i18n.num(limit), i18n.num(shown.length))), ' ',
      h('button', { type: 'button', class: 'more', onclick: () => { limit += page; render(); } }, i18n.t.showMore(i18n.num(Math.min(page, hidden)))), ' ',
      h('button', { type: 'button', class: 'all', onclick: () => { limit = shown.length; render(); } }, i18n.t.showAll),
    ] : []));
  }
  render();
  const download = () => {
    const lines = [cols.map(c => csvCell(c.label)).join(',')];
    for (const r of shown) lines.push(cols.map(c => { const v = raw(c, r); return csvCell(typeof v === 'object' && v !== null ? JSON.stringify(v) : v); }).join(','));
    const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `${name}.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  };
  return h('div', { class: 'table-wrap', 'data-table': name },
    h('div', { class: 'table-tools' }, h('button', { type: 'button', class: 'csv', onclick: download }, i18n.t.csv)),
    h('div', { class: 'scroll' }, h('table', null, caption ? h('caption', null, caption) : null, h('thead', null, h('tr', null, heads)), tbody)),
    more);
}

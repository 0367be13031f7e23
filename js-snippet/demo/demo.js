// The demo page's own script (a file, not inline: the collector serves /demo/ with a
// Content-Security-Policy of script-src 'self').
// A long article, generated so the page has something to scroll through.
const art = document.getElementById('article');
const topics = ['Qualify the account', 'Map the buying group', 'Run the discovery call', 'Shape the proposal',
  'Handle objections', 'Register the deal', 'Close and hand over', 'Plan the renewal'];
topics.forEach((t, i) => {
  const h = document.createElement('h3');
  h.textContent = (i + 1) + '. ' + t;
  art.append(h);
  for (let k = 0; k < 4; k++) {
    const p = document.createElement('p');
    p.textContent = t + ': partners that follow the playbook close faster. Use the material in the Hub, '
      + 'share the video with new sales staff, and keep the customer story short and concrete. '
      + 'Every step leaves a trace in the log, so the channel team sees what helped and what nobody opened.';
    art.append(p);
  }
});

// Show what the snippet queues, through its adapter hook API.
const log = document.getElementById('log');
function show(line) {
  const d = document.createElement('div');
  d.textContent = new Date().toLocaleTimeString() + '  ' + line;
  log.prepend(d);
}
function wire(b) {
  show('view content_id="demo-hub" (sent on load)');
  b.listen(e => {
    const fields = Object.entries(e).filter(([k]) => !['id', 'ts', 'title', 'type'].includes(k)).map(([k, v]) => k + '=' + JSON.stringify(v)).join(' ');
    show(e.type + ' ' + fields);
  });
  document.getElementById('custom').onclick = () => b.track('deal_registered', { product: 'q4-bundle', seats: 25 });
  document.getElementById('flush').onclick = () => { b.flush(); show('(sent)'); };
}
if (window.beacon && window.beacon.event) wire(window.beacon);
else document.addEventListener('beacon:ready', () => wire(window.beacon), { once: true });

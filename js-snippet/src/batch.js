// Payload splitting: every request must stay under the browser's 64 KiB
// keepalive quota (shared by sendBeacon and fetch keepalive), so a batch is cut
// into bodies of at most max bytes (UTF-8) each.

const enc = new TextEncoder();
export const bytes = s => enc.encode(s).length;

// SENT_AT stands in for the real sent_at, which is set at send time; any ms
// epoch until the year 2286 has 13 digits, so the measured size stays exact.
const SENT_AT = 1e12;

// body serializes one request body.
export const body = (head, events, sentAt) =>
  JSON.stringify(Object.assign({}, head, { sent_at: sentAt, events }));

// split groups events, in order, into chunks of at most maxEvents (the wire
// format allows 100) whose serialized body with head is at most max bytes.
// An event that cannot fit even alone is dropped (the core truncates strings,
// so only a hostile caller gets there).
export function split(head, events, max, maxEvents = 100) {
  const base = bytes(body(head, [], SENT_AT));
  const out = [];
  let cur = [], size = base;
  for (const e of events) {
    const n = bytes(JSON.stringify(e));
    if (base + n > max) continue;
    if (cur.length && (size + n + 1 > max || cur.length >= maxEvents)) {
      out.push(cur);
      cur = [];
      size = base;
    }
    size += cur.length ? n + 1 : n;
    cur.push(e);
  }
  if (cur.length) out.push(cur);
  return out;
}

// cut shortens s to at most n UTF-8 bytes (the collector rejects longer fields).
export function cut(s, n) {
  s = String(s).slice(0, n);
  for (let over; (over = bytes(s) - n) > 0;) s = s.slice(0, s.length - Math.ceil(over / 3));
  return s;
}

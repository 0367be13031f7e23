// on adds a passive listener (capturing when c is set) that can never throw into the page.
export const on = (t, ev, fn, c) =>
  t.addEventListener(ev, e => { try { fn(e); } catch (x) { /* never break the page */ } }, { capture: !!c, passive: true });

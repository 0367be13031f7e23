// on adds a passive capturing listener that can never throw into the page.
export const on = (t, ev, fn) =>
  t.addEventListener(ev, e => { try { fn(e); } catch (x) { /* never break the page */ } }, { capture: true, passive: true });

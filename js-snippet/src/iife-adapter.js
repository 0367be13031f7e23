// Shared start-up for IIFE adapters: run fn(window.beacon) now if the core is
// loaded, else when it announces itself.
export const ready = fn => {
  const go = () => { try { fn(window.beacon); } catch (x) { /* never break the page */ } };
  if (window.beacon && window.beacon.event) go();
  else document.addEventListener('beacon:ready', go, { once: true });
};

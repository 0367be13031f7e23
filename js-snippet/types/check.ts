// Compile-only check of the declarations (npm run test:types): typical integrator code.
import { createTracker, type Beacon } from './beacon';
import { trackVideo, trackPdf } from './adapters';

const b: Beacon = createTracker({ site: 'demo', endpoint: 'https://collector.example.com', consent: 'required' });
b.track('signup', { plan: 'pro', seats: 5, trial: true });
b.content('faq-42', 'faq', 'How do I register a deal?');
b.consent(true);
b.flush();
const id: string = b.event('custom', { name: 'x', props: { a: 'b' } });
b.hook(u => { if (u === 2) b.flush(); });
trackVideo(b, document.createElement('video'), { id: 'vid-1', interval: 5000 });
const bus = { on(_n: string, _fn: (e: never) => void) {} };
const st = trackPdf(b, bus, { id: 'doc-1' });
const furthest: number = st.furthest;
if (window.beacon && 'track' in window.beacon) window.beacon.track('from-window');
window.beacon = { q: [['track', 'early', {}]] };
export { id, furthest };
b.listen(e => console.log(e.id, e.type, e.content_id));
b.content('doc-7', 'document', 'Price list', '2026.2');
const sid: string = b.search('price list', 3, 'doc-7');
b.complete({ score: 87.5, passed: true });
b.complete('course-1', { score: 40, passed: false, type: 'course', version: 'v2' });
trackPdf(b, bus, { id: 'doc-1', version: 'v3' });
export { sid };

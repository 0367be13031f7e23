// <script src="video.js"> tracks every <video data-content-id> on the page and
// exposes beacon.video(element, options) for the rest.
import { trackVideo, attachAll } from '../adapters/video.js';
import { ready } from '../iife-adapter.js';

ready(b => {
  b.video = (el, o) => trackVideo(b, el, o);
  const all = () => attachAll(b);
  if (document.readyState == 'loading') document.addEventListener('DOMContentLoaded', all);
  else all();
});

// <script src="youtube.js"> exposes beacon.youtube(player, {id, title}); call it
// from the YT.Player onReady callback.
import { trackYouTube } from '../adapters/youtube.js';
import { ready } from '../iife-adapter.js';

ready(b => { b.youtube = (p, o) => trackYouTube(b, p, o); });

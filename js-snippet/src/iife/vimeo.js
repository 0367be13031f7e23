// <script src="vimeo.js"> exposes beacon.vimeo(player, {id, title}) for a Vimeo.Player.
import { trackVimeo } from '../adapters/vimeo.js';
import { ready } from '../iife-adapter.js';

ready(b => { b.vimeo = (p, o) => trackVimeo(b, p, o); });

// ESM adapter modules (dist/esm/*.mjs): each takes the tracker returned by createTracker.
import type { Beacon, AdapterOptions, PdfEventBus, PdfState, YouTubePlayer, VimeoPlayer } from './beacon';

/** dist/esm/video.mjs */
export function trackVideo(tracker: Beacon, el: HTMLMediaElement, opts?: AdapterOptions): unknown;
export function attachAll(tracker: Beacon, root?: ParentNode): void;
/** dist/esm/pdf.mjs */
export function trackPdf(tracker: Beacon, eventBus: PdfEventBus, opts: AdapterOptions & { id: string }): PdfState;
/** dist/esm/youtube.mjs: call from the player's onReady. */
export function trackYouTube(tracker: Beacon, player: YouTubePlayer, opts?: AdapterOptions): unknown;
/** dist/esm/vimeo.mjs */
export function trackVimeo(tracker: Beacon, player: VimeoPlayer, opts?: AdapterOptions): Promise<unknown>;

// Public API of the beacon snippet (wire format v1, see beacon/WIRE.md).
// Script tag: <script async src="https://<collector>/b.js" data-site="<site key>"></script>
// puts a Beacon on window.beacon; the ESM build exports createTracker.

/** Content kinds of wire format v1. */
export type ContentType = 'document' | 'video' | 'page' | 'course' | 'tool' | 'faq' | 'link';

/** Options of createTracker; the script tag takes them as data- attributes. */
export interface TrackerOptions {
  /** Public site key from the collector's site config (data-site). Required. */
  site: string;
  /** Collector base URL (data-endpoint); the script tag defaults to the origin of its src. */
  endpoint?: string;
  /** Keep ids in sessionStorage only: no cookie, no localStorage (data-cookieless). */
  cookieless?: boolean;
  /** 'required': send and store nothing until consent(true) (data-consent="required"). */
  consent?: 'required' | string | null;
  /** 'ignore' to track despite Do Not Track / Global Privacy Control; respected by default (data-dnt). */
  dnt?: 'ignore' | 'respect' | string | null;
  /** false: no automatic page view (data-auto="off"), e.g. when an adapter sends the view. */
  auto?: boolean;
  /** Calls queued by a stub before the script loaded; listen() calls among them run before the page view. */
  q?: Array<[string, ...unknown[]]>;
  /** Page content identity; defaults: location.pathname, 'page', document.title. */
  content_id?: string | null;
  content_type?: ContentType | string | null;
  title?: string | null;
  /** Version of the page's content (data-content-version, at most 64 bytes), sent with its events. */
  content_version?: string | null;
  /** Engaged-time heartbeat in ms (data-heartbeat, default 15000). */
  heartbeat?: number | string | null;
  /** Batching delay in ms before pending events are sent (data-flush, default 5000). */
  flush?: number | string | null;
  /** Origins (space-separated, exact) of iframes this page hands its partner token to, besides the endpoint's (data-frames). */
  frames?: string | null;
  /** In a framed page: origins of the embedding pages it takes a partner token from (data-parents). */
  parents?: string | null;
}

/** Fields an adapter may set on an event (see WIRE.md for which apply to which type). */
export interface EventFields {
  content_id?: string;
  content_type?: ContentType | string;
  title?: string;
  page?: number;
  page_count?: number;
  dwell_ms?: number;
  depth?: number;
  engaged_ms?: number;
  action?: string;
  position?: number;
  duration?: number;
  rate?: number;
  watched?: Array<[number, number]>;
  href?: string;
  name?: string;
  props?: Record<string, string>;
  url?: string;
  content_version?: string;
  query?: string;
  results?: number;
  clicked?: string;
  score?: number;
  passed?: boolean;
}

export type EventType = 'view' | 'page' | 'scroll' | 'engage' | 'video' | 'click' | 'complete' | 'search' | 'custom';

/** Options of complete(). */
export interface CompleteOptions {
  /** Test score 0..100 (left out when out of range). */
  score?: number;
  /** Whether the test was passed. */
  passed?: boolean;
  /** With an explicit content id: its type and version (else the page's). */
  type?: ContentType | string;
  version?: string;
}

export interface Beacon {
  /** Snippet version, e.g. "0.1.0". */
  readonly version: string;
  /** The anonymous visitor id. */
  readonly visitorId: string;
  /** Custom event: name 1..128 bytes, up to 20 props (values are turned into strings). Returns the event id. */
  track(name: string, props?: Record<string, string | number | boolean>): string;
  /** Sets what this page shows (and its version) and sends a view for it; engaged time and scroll depth restart for it. */
  content(id: string, type?: ContentType | string, title?: string, version?: string): void;
  /**
   * A search: its text, how many results it showed (a number >= 0, else nothing is sent),
   * and the content_id of the result opened from it. Returns the event id, or ''.
   * The collector stores at most 256 bytes of the text, e-mail addresses and tokens replaced.
   */
  search(query: string, results: number, clicked?: string): string;
  /** The page's content (or the given content id) was completed, with a test's score 0..100 and passed. Returns the event id. */
  complete(id?: string | CompleteOptions | null, opts?: CompleteOptions): string;
  /** Grants (true) or withdraws (false) consent; withdrawal deletes the stored ids, token and queue. */
  consent(granted: boolean): void;
  /** Sends pending events now. */
  flush(): void;
  /** Adapter API: queues one event of the given type; returns its id. */
  event(type: EventType | string, fields?: EventFields): string;
  /** Adapter API: fn runs before each flush; unload is 0 (timer/API), 1 (page hidden) or 2 (pagehide). */
  hook(fn: (unload: 0 | 1 | 2 | undefined) => void): void;
  /** fn sees every event as it is queued (a copy for your own log or analytics; do not modify it). */
  listen(fn: (event: { id: string; type: string; ts: number } & EventFields) => void): void;
  /** Set by the IIFE adapters when loaded. */
  video?: (el: HTMLMediaElement, opts?: AdapterOptions) => unknown;
  pdf?: (eventBus: PdfEventBus, opts: AdapterOptions & { id: string }) => PdfState;
  youtube?: (player: YouTubePlayer, opts?: AdapterOptions) => unknown;
  vimeo?: (player: VimeoPlayer, opts?: AdapterOptions) => Promise<unknown>;
}

export interface AdapterOptions {
  /** Content id; defaults per adapter (data-content-id, the video id, ...). */
  id?: string;
  title?: string;
  /** Content version (at most 64 bytes); video.js defaults to data-content-version. */
  version?: string;
  /** Heartbeat interval in ms (videos default 10000, documents 15000). */
  interval?: number;
}

/** The part of PDF.js's EventBus the document adapter uses. */
export interface PdfEventBus {
  on(name: 'pagesloaded', fn: (e: { pagesCount: number }) => void): void;
  on(name: 'pagechanging', fn: (e: { pageNumber: number }) => void): void;
}
export interface PdfState { readonly page: number; readonly furthest: number; readonly pages: number; }

/** The documented YT.Player methods the YouTube adapter uses. */
export interface YouTubePlayer {
  getCurrentTime(): number;
  getDuration(): number;
  getPlaybackRate(): number;
  getVideoUrl(): string;
  getVideoData?(): { video_id?: string; title?: string };
  addEventListener(name: 'onStateChange' | 'onPlaybackRateChange', fn: (e: { data: number }) => void): void;
}

/** The documented Vimeo.Player methods the Vimeo adapter uses. */
export interface VimeoPlayer {
  getVideoId(): Promise<number | string>;
  getVideoTitle(): Promise<string>;
  getDuration(): Promise<number>;
  getPlaybackRate(): Promise<number>;
  on(name: string, fn: (data: { seconds: number; duration: number; percent: number; playbackRate?: number }) => void): void;
}

/** ESM: starts tracking for this page. */
export function createTracker(options: TrackerOptions): Beacon;
/** ESM: a random RFC 4122 version 4 UUID. */
export function uuid(): string;
export const VERSION: string;

declare global {
  interface Window {
    /** The snippet, or before it loaded a stub whose q holds calls to replay: [['track', 'signup', {}]]. */
    beacon?: Beacon | { q: Array<[keyof Beacon, ...unknown[]]> };
  }
}

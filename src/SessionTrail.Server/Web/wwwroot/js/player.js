// The recording player: plays a session's segments in order in one <video>, and maps session time (ms since
// the epoch) to (segment, offset in seconds) and back using each segment's recorded start and end.
import { h } from './dom.js';

/** States whose bytes can be played (the server holds them, possibly still growing). */
const PLAYABLE = new Set(['complete', 'uploading', 'chain-broken']);

/** The playable segments of a listing, by index, with start/end in ms. */
export function playableSegments(listing) {
  return (listing.segments || [])
    .filter((g) => g.start && g.end && g.uploadedBytes > 0 && PLAYABLE.has(g.state))
    .map((g) => ({ index: g.index, start: Date.parse(g.start), end: Date.parse(g.end), url: g.url, state: g.state }))
    .sort((a, b) => a.index - b.index);
}

/**
 * Where session time t (ms) is in the recording: the segment covering it and the offset (s) into it; in a gap,
 * the next segment's start (gap: true); after the last segment, its end; null without segments.
 */
export function locate(segments, t) {
  if (!segments.length) return null;
  for (let i = 0; i < segments.length; i++) {
    const g = segments[i];
    if (t < g.start) return { seg: i, offset: 0, gap: true };
    if (t < g.end) return { seg: i, offset: (t - g.start) / 1000, gap: false };
  }
  const last = segments.length - 1;
  return { seg: last, offset: (segments[last].end - segments[last].start) / 1000, gap: true };
}

/** Session time (ms) of offset (s) into segment i. */
export const timeOf = (segments, i, offset) => segments[i].start + offset * 1000;

/**
 * A player over `segments`: the <video>, a status line, seek(t), and onTime(cb) called with the session time
 * while the video plays or seeks. At the end of a segment it goes on with the next.
 */
export function createPlayer(segments) {
  const video = h('video', { controls: true, preload: 'metadata', playsInline: true, class: 'video', 'aria-label': 'Session recording' });
  const status = h('p', { class: 'player-status', 'aria-live': 'polite' });
  const listeners = [];
  let seg = -1;
  let raf = 0;

  const emit = () => { if (seg >= 0) listeners.forEach((fn) => fn(timeOf(segments, seg, video.currentTime || 0), seg)); };
  const describe = () => {
    status.textContent = seg < 0 ? '' : `Segment ${segments[seg].index} (${seg + 1} of ${segments.length})`;
    video.dataset.segment = seg < 0 ? '' : String(segments[seg].index);
  };

  /** Loads segment i (if not loaded) and resolves once it can seek. */
  function load(i) {
    if (i === seg && video.readyState >= 1) return Promise.resolve();
    seg = i;
    describe();
    return new Promise((resolve, reject) => {
      const done = () => { video.removeEventListener('loadedmetadata', done); video.removeEventListener('error', fail); resolve(); };
      const fail = () => { video.removeEventListener('loadedmetadata', done); video.removeEventListener('error', fail); reject(new Error('the segment cannot be played')); };
      video.addEventListener('loadedmetadata', done);
      video.addEventListener('error', fail);
      video.src = segments[i].url;
      video.load();
    });
  }

  async function seek(t) {
    const at = locate(segments, t);
    if (!at) return;
    const playing = !video.paused && !video.ended;
    await load(at.seg);
    video.currentTime = at.offset;
    if (playing) await video.play().catch(() => {});
    emit();
  }

  video.addEventListener('ended', async () => {
    if (seg + 1 < segments.length) {
      await load(seg + 1);
      video.currentTime = 0;
      await video.play().catch(() => {});
    }
  });
  video.addEventListener('timeupdate', emit);
  video.addEventListener('seeked', emit);
  const tick = () => { emit(); raf = requestAnimationFrame(tick); };
  video.addEventListener('play', () => { cancelAnimationFrame(raf); raf = requestAnimationFrame(tick); });
  video.addEventListener('pause', () => cancelAnimationFrame(raf));

  return {
    video,
    status,
    seek,
    start: () => (segments.length ? load(0).catch(() => {}) : Promise.resolve()),
    onTime: (fn) => listeners.push(fn),
    dispose: () => { cancelAnimationFrame(raf); video.pause(); video.removeAttribute('src'); video.load(); },
  };
}

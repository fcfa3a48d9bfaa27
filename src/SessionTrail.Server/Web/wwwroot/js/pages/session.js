// A session: metadata, one timeline (runs, recording segments, gaps, chain problems, log marks, play cursor),
// the recording player, and the log records. Clicking a run or a log record seeks the video to that moment.
import { h, replace, fmtTime, fmtClock, fmtDuration } from '../dom.js';
import { get, enc, explain } from '../api.js';
import { atLeast } from '../app.js';
import { createPlayer, playableSegments } from '../player.js';

const ENDED = {
  exit: 'exited',
  'session-end': 'ended with the session',
  open: 'still running',
};

export async function sessionPage(main, { params }) {
  const id = params[0];
  document.title = `Session ${id} · SessionTrail`;
  const detail = await get(`/sessions/${enc(id)}`);
  const s = detail.session;
  const [logs, listing] = await Promise.all([
    get('/logs', { session: id, limit: 1000, order: 'asc' }).catch((e) => ({ error: e })),
    detail.recording ? get(`/sessions/${enc(id)}/recordings`).catch((e) => ({ error: e })) : Promise.resolve(null),
  ]);
  const logRecords = Array.isArray(logs) ? [...logs].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)) : [];

  const segments = listing && !listing.error ? playableSegments(listing) : [];
  const range = timeRange(s, detail.runs, segments, listing);
  const player = segments.length ? createPlayer(segments) : null;
  const seek = player ? (t) => player.seek(t).catch((e) => showPlayerError(e)) : null;

  const playerBox = h('section', { class: 'player card', 'aria-labelledby': 'rec-h' }, h('h2', { id: 'rec-h' }, 'Recording'));
  const playerMessage = h('p', { class: 'player-message', role: 'status', id: 'player-message' });
  const showPlayerError = (e) => { playerMessage.textContent = explain(e); playerMessage.classList.add('error'); };

  if (!detail.recording) {
    playerBox.append(h('p', { class: 'muted' }, 'This session was not recorded.'));
  } else if (listing && listing.error) {
    playerBox.append(h('p', { class: 'error', role: 'alert' }, `The recording's listing cannot be read: ${explain(listing.error)}`));
  } else if (!segments.length) {
    playerBox.append(h('p', { class: 'muted' }, 'No segment of this recording can be played yet.'));
  } else if (!atLeast('auditor')) {
    // Ask the server (it decides and audits); show its answer rather than guessing.
    playerBox.append(playerMessage);
    probe(segments[0].url).then((text) => {
      playerMessage.textContent = text;
      playerMessage.classList.add('refused');
    });
  } else {
    playerBox.append(player.video, player.status, playerMessage);
    player.video.addEventListener('error', async () => {
      playerMessage.textContent = await probe(player.video.currentSrc || segments[0].url);
      playerMessage.classList.add('error');
    });
    player.start();
  }
  if (listing && !listing.error) playerBox.append(recordingFacts(listing));

  const timeline = buildTimeline(detail.runs, listing && !listing.error ? listing : null, segments, logRecords, range, seek);
  if (player) player.onTime((t) => timeline.moveCursor(t));

  replace(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/sessions', 'data-link': true }, 'Sessions'), ' › ', id),
    h('h1', {}, `Session ${id}`),
    metadata(s, detail),
    h('div', { class: 'session-grid' },
      playerBox,
      h('section', { class: 'card timeline-card', 'aria-labelledby': 'tl-h' },
        h('h2', { id: 'tl-h' }, 'Timeline'),
        h('p', { class: 'hint' }, player ? 'Select a run or a log record to play the recording from that moment.' : ''),
        timeline.el)),
    logList(logRecords, logs, seek, detail.logCount));
  return () => player && player.dispose();
}

function metadata(s, detail) {
  const item = (k, v) => [h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '—' : v)];
  return h('dl', { class: 'meta card', 'aria-label': 'Session details' },
    item('User', s.user), item('Host', s.host), item('Stack', s.stack), item('Fleet', s.fleet),
    item('Start', fmtTime(s.start) + ' UTC'), item('End', s.end ? fmtTime(s.end) + ' UTC' : 'still running'),
    item('Duration', fmtDuration(s.duration)), item('Runs', String(detail.runs.length)),
    item('Access mode', s.accessMode), item('Instance type', s.instanceType), item('Region', s.region), item('Image', s.imageArn));
}

function recordingFacts(listing) {
  const box = h('div', { class: 'rec-facts' });
  const states = listing.segments.map((g) => `${g.index}: ${g.state}`).join(', ');
  box.append(h('p', {}, `${listing.segments.length} segment(s) — ${states}`));
  if (listing.chain && !listing.chain.ok) {
    box.append(h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Chain problems: '),
      h('ul', {}, listing.chain.problems.map((p) => h('li', {}, p)))));
  } else {
    box.append(h('p', { class: 'ok' }, 'Hash chain verified.'));
  }
  if (listing.hold) box.append(h('p', {}, 'On legal hold.'));
  return box;
}

/** GET one byte of a segment to learn why it cannot be played (403 role, 404 …). */
async function probe(url) {
  try {
    const res = await fetch(url, { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin' });
    if (res.ok) return 'The recording could not be decoded by this browser.';
    const body = await res.json().catch(() => null);
    const why = (body && body.error) || `${res.status} ${res.statusText}`;
    return res.status === 403 ? `You may not watch this recording: ${why}` : `The recording cannot be played: ${why}`;
  } catch (e) {
    return `The recording cannot be loaded: ${e.message}`;
  }
}

function timeRange(s, runs, segments, listing) {
  const times = [Date.parse(s.start)];
  const ends = [s.end ? Date.parse(s.end) : Date.now()];
  for (const r of runs) { times.push(Date.parse(r.start)); if (r.end) ends.push(Date.parse(r.end)); }
  for (const g of segments) { times.push(g.start); ends.push(g.end); }
  for (const e of (listing && listing.events) || []) { if (e.gapStart) times.push(Date.parse(e.gapStart)); if (e.gapEnd) ends.push(Date.parse(e.gapEnd)); }
  const from = Math.min(...times.filter(Number.isFinite));
  const to = Math.max(...ends.filter(Number.isFinite), from + 1000);
  return { from, to };
}

function buildTimeline(runs, listing, segments, logRecords, range, seek) {
  const span = range.to - range.from;
  const pct = (t) => `${Math.max(0, Math.min(100, ((t - range.from) / span) * 100))}%`;
  const width = (a, b) => `${Math.max(0.3, ((Math.min(b, range.to) - Math.max(a, range.from)) / span) * 100)}%`;
  const place = (el, a, b) => { el.style.left = pct(a); el.style.width = width(a, b); return el; };

  const lane = (label, track, extra = {}) => h('div', { class: 'tl-lane', ...extra }, h('div', { class: 'tl-label' }, label), track);
  const clickable = (track) => {
    if (!seek) return track;
    track.addEventListener('click', (e) => {
      if (e.target !== track) return;
      const box = track.getBoundingClientRect();
      seek(range.from + ((e.clientX - box.left) / box.width) * span);
    });
    return track;
  };

  // Axis: 6 ticks.
  const axis = h('div', { class: 'tl-track tl-axis', 'aria-hidden': 'true' });
  for (let i = 0; i <= 5; i++) {
    const t = range.from + (span * i) / 5;
    const tick = h('span', { class: 'tl-tick' }, fmtClock(t));
    tick.style.left = `${(i / 5) * 100}%`;
    axis.append(tick);
  }

  const lanes = [lane('UTC', axis, { 'aria-hidden': 'true' })];

  if (listing) {
    const track = clickable(h('div', { class: 'tl-track' }));
    for (const g of listing.segments) {
      if (!g.start || !g.end) continue;
      const bad = !['complete', 'uploading'].includes(g.state);
      track.append(place(h('span', {
        class: `tl-seg${bad ? ' tl-bad' : ''}`, title: `segment ${g.index}: ${g.state}${g.problem ? ' — ' + g.problem : ''}`,
        dataset: { index: String(g.index), state: g.state },
      }, bad ? `⚠ ${g.index}` : String(g.index)), Date.parse(g.start), Date.parse(g.end)));
    }
    for (const e of listing.events || []) {
      if (e.type === 'gap' && e.gapStart && e.gapEnd) {
        track.append(place(h('span', { class: 'tl-gap', title: `gap: ${e.message || ''} ${fmtClock(e.gapStart)}–${fmtClock(e.gapEnd)}` }, 'gap'),
          Date.parse(e.gapStart), Date.parse(e.gapEnd)));
      } else if (e.type === 'error' || e.type === 'geometry') {
        const m = h('span', { class: `tl-mark tl-${e.type}`, title: `${e.type}: ${e.message} (${fmtClock(e.time)})` });
        m.style.left = pct(Date.parse(e.time));
        track.append(m);
      }
    }
    lanes.push(lane('Recording', track, { 'aria-label': 'Recording segments' }));
  }

  if (logRecords.length) {
    const track = clickable(h('div', { class: 'tl-track' }));
    for (const r of logRecords) {
      const m = h('span', { class: `tl-mark tl-log level-${(r.level || 'info').toLowerCase()}`, title: `${fmtClock(r.time)} ${r.message}` });
      m.style.left = pct(Date.parse(r.time));
      track.append(m);
    }
    lanes.push(lane('Logs', track, { 'aria-hidden': 'true' }));
  }

  const runList = h('ol', { class: 'tl-runs', 'aria-label': 'Process runs' });
  const sorted = [...runs].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  sorted.forEach((r, i) => {
    const start = Date.parse(r.start);
    const end = r.end ? Date.parse(r.end) : range.to;
    const how = r.ended === 'exit' && r.exitCode !== null && r.exitCode !== undefined && r.exitCode !== 0 ? 'fail' : r.ended;
    const label = `${r.name}, ${fmtClock(start)} to ${r.end ? fmtClock(end) : 'now'}, ${ENDED[r.ended] || r.ended}${r.exitCode !== null && r.exitCode !== undefined ? ` (code ${r.exitCode})` : ''}`;
    const bar = h(seek ? 'button' : 'span', {
      type: seek ? 'button' : undefined, class: `tl-run run-${how}`, title: `${r.app} (pid ${r.pid})\n${label}`,
      'aria-label': seek ? `Play from ${label}` : label, dataset: { run: String(i), start: r.start },
    }, r.name);
    if (seek) bar.addEventListener('click', () => seek(start));
    place(bar, start, end);
    runList.append(h('li', {}, lane(r.name, clickable(h('div', { class: 'tl-track' }, bar)))));
  });

  const cursor = h('div', { class: 'tl-cursor', 'aria-hidden': 'true', hidden: true });
  const overlay = h('div', { class: 'tl-overlay', 'aria-hidden': 'true' }, cursor);
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' },
    h('li', {}, h('span', { class: 'swatch run-exit' }), 'exited (code 0)'),
    h('li', {}, h('span', { class: 'swatch run-fail' }), 'exited with an error code'),
    h('li', {}, h('span', { class: 'swatch run-session-end' }), 'ended with the session'),
    h('li', {}, h('span', { class: 'swatch run-open' }), 'still running'),
    listing ? h('li', {}, h('span', { class: 'swatch gap-swatch' }), 'recording gap') : null,
    listing ? h('li', {}, h('span', { class: 'swatch bad-swatch' }), 'segment with a problem') : null);
  const el = h('div', { class: 'timeline', dataset: { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() } },
    h('div', { class: 'tl-body' }, lanes, runList, overlay), legend);
  if (!runs.length) el.prepend(h('p', { class: 'muted' }, 'No process runs in this session.'));
  return {
    el,
    moveCursor(t) {
      cursor.hidden = false;
      cursor.style.left = pct(t);
      cursor.dataset.time = new Date(t).toISOString();
    },
  };
}

function logList(records, logs, seek, count) {
  const box = h('section', { class: 'card', 'aria-labelledby': 'logs-h' }, h('h2', { id: 'logs-h' }, `Log records (${count ?? records.length})`));
  if (logs && logs.error) {
    box.append(h('p', { class: 'error', role: 'alert' }, explain(logs.error)));
    return box;
  }
  if (!records.length) {
    box.append(h('p', { class: 'muted' }, 'No log records for this session.'));
    return box;
  }
  const list = h('ol', { class: 'loglist' });
  for (const r of records) {
    const t = Date.parse(r.time);
    const text = [h('time', { datetime: r.time }, fmtClock(r.time)), ' ',
      h('span', { class: `level level-${(r.level || 'info').toLowerCase()}` }, r.level || '—'), ' ',
      h('span', { class: 'src' }, r.provider || r.source), ' ', h('span', { class: 'msg' }, r.message)];
    list.append(h('li', {}, seek
      ? h('button', { type: 'button', class: 'logrow', 'aria-label': `Play from ${fmtClock(r.time)}: ${r.message}`, onclick: () => seek(t) }, text)
      : h('div', { class: 'logrow' }, text)));
  }
  box.append(list);
  if (count && count > records.length) {
    box.append(h('p', {}, `${records.length} of ${count} shown. `,
      h('a', { href: `/logs?session=${encodeURIComponent(records[0].session || '')}`, 'data-link': true }, 'See all on the Logs page')));
  }
  return box;
}


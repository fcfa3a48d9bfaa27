// Logs, Discover-like: full-text query, field facets, a time histogram, expandable records with every field,
// a link to each record's session. Filters live in the URL.
import { h, s, replace, fmtTime, fmtInt } from '../dom.js';
import { request, get } from '../api.js';
import { readQuery, applyQuery } from '../filters.js';

/** Facet names the API filters by a parameter of its own; any other name goes as field.NAME. */
const DIRECT = new Set(['host', 'user', 'source', 'session', 'level', 'provider', 'eventId']);
const BASE = ['q', 'from', 'to', 'host', 'user', 'source', 'session', 'level', 'provider', 'eventId'];

export async function logsPage(main, { query }) {
  document.title = 'Logs · SessionTrail';
  const chosen = readQuery(query, BASE);
  const fieldFilters = [...query.entries()].filter(([k]) => k.startsWith('field.'));
  const params = { ...chosen };
  for (const [k, v] of fieldFilters) (params[k] ||= []).push(v);

  const [first, histogram, facets] = await Promise.all([
    request('/logs', { query: { ...params, limit: 100 } }),
    get('/logs/histogram', { ...params, buckets: 60 }).catch(() => null),
    get('/logs/fields', params).catch(() => ({ fields: [] })),
  ]);

  const state = { ...chosen };
  for (const [k, v] of fieldFilters) state[k] = v;
  const go = (changes) => applyQuery('/logs', { ...state, ...changes });

  const q = h('input', { type: 'search', name: 'q', value: chosen.q || '', placeholder: 'words, "a phrase", level:Error …', 'aria-label': 'Full-text query' });
  const form = h('form', { class: 'querybar card', role: 'search', 'aria-label': 'Search logs' },
    q,
    h('label', {}, 'From ', h('input', { type: 'datetime-local', name: 'from', value: local(chosen.from), step: 1 })),
    h('label', {}, 'To ', h('input', { type: 'datetime-local', name: 'to', value: local(chosen.to), step: 1 })),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go({ q: q.value.trim(), from: iso(form.elements.from.value), to: iso(form.elements.to.value) });
  });

  const active = [...Object.entries(chosen).filter(([k]) => k !== 'q' && k !== 'from' && k !== 'to'), ...fieldFilters];
  const chips = active.length ? h('ul', { class: 'chips', 'aria-label': 'Active filters' }, active.map(([k, v]) =>
    h('li', {}, h('button', { type: 'button', class: 'chip', 'aria-label': `Remove filter ${k.replace('field.', '')} = ${v}`, onclick: () => go({ [k]: undefined }) },
      `${k.replace('field.', '')}: ${v} ✕`)))) : null;

  const list = h('ol', { class: 'records' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = first.headers.get('X-Next-Cursor');
  const addRecords = (records) => records.forEach((r) => list.append(recordItem(r)));
  addRecords(first.body);
  more.hidden = !cursor;
  more.addEventListener('click', async () => {
    more.disabled = true;
    const next = await request('/logs', { query: { ...params, limit: 100, before: cursor } });
    addRecords(next.body);
    cursor = next.headers.get('X-Next-Cursor');
    more.hidden = !cursor;
    more.disabled = false;
  });

  const total = histogram ? histogram.total : first.body.length;
  replace(main,
    h('h1', {}, 'Logs'),
    form, chips,
    h('div', { class: 'discover' },
      h('aside', { class: 'facets card', 'aria-label': 'Field filters' }, h('h2', {}, 'Fields'), facetList(facets.fields || [], go)),
      h('div', { class: 'results' },
        histogram ? histogramCard(histogram, go) : null,
        h('p', { role: 'status', id: 'logs-count' }, `${fmtInt(total)} record(s)`),
        first.body.length ? list : h('p', { class: 'muted' }, 'No record matches.'),
        more)));
}

function facetList(fields, go) {
  // Every facet (host, source, user, level, provider, event id) is a filter parameter of the logs API.
  return fields.map((f) => h('details', { class: 'facet', open: true },
    h('summary', {}, f.name),
    h('ul', {}, f.values.map((v) => {
      const text = [h('span', {}, v.value === '' ? '(empty)' : v.value), h('span', { class: 'count' }, fmtInt(v.count))];
      return h('li', {}, DIRECT.has(f.name)
        ? h('button', { type: 'button', class: 'facet-value', 'aria-label': `Only ${f.name} ${v.value}`, onclick: () => go({ [f.name]: v.value }) }, text)
        : h('span', { class: 'facet-value static' }, text));
    }))));
}

function histogramCard(hg, go) {
  const W = 900, H = 120, bottom = 20;
  const max = Math.max(...hg.buckets.map((b) => b.count), 1);
  const step = W / Math.max(hg.buckets.length, 1);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Records over time, ${hg.total} in all`, class: 'histogram' });
  hg.buckets.forEach((b, i) => {
    const bh = ((H - bottom) * b.count) / max;
    const start = Date.parse(b.start);
    const end = start + hg.bucketSeconds * 1000;
    const rect = s('rect', { x: i * step + 1, y: H - bottom - bh, width: Math.max(step - 2, 1), height: Math.max(bh, b.count ? 1 : 0), class: 'bar', tabindex: b.count ? 0 : undefined },
      s('title', {}, `${fmtTime(start)}: ${b.count}`));
    if (b.count) {
      const zoom = () => go({ from: new Date(start).toISOString(), to: new Date(end).toISOString() });
      rect.addEventListener('click', zoom);
      rect.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); zoom(); } });
    }
    svg.append(rect);
  });
  svg.append(s('text', { x: 0, y: H - 4, class: 'axis' }, fmtTime(hg.from)), s('text', { x: W, y: H - 4, 'text-anchor': 'end', class: 'axis' }, fmtTime(hg.to)));
  return h('figure', { class: 'card' }, h('figcaption', {}, 'Records over time (select a bar to zoom in)'), svg);
}

function recordItem(r) {
  const details = h('dl', { class: 'fields', hidden: true });
  const all = { time: r.time, host: r.host, source: r.source, channel: r.channel, provider: r.provider, eventId: r.eventId, level: r.level, user: r.user, session: r.session, message: r.message };
  for (const [k, v] of Object.entries(all)) if (v !== null && v !== undefined) details.append(h('dt', {}, k), h('dd', {}, String(v)));
  for (const [k, v] of Object.entries(r.fields || {})) details.append(h('dt', {}, `fields.${k}`), h('dd', {}, v));
  const toggle = h('button', { type: 'button', class: 'expand', 'aria-expanded': 'false' },
    h('time', { datetime: r.time }, fmtTime(r.time)), ' ',
    h('span', { class: `level level-${(r.level || 'info').toLowerCase()}` }, r.level || '—'), ' ',
    h('span', { class: 'src' }, r.host), ' ', h('span', { class: 'msg' }, r.message));
  toggle.addEventListener('click', () => {
    details.hidden = !details.hidden;
    toggle.setAttribute('aria-expanded', String(!details.hidden));
  });
  return h('li', { class: 'record' }, toggle,
    r.session ? h('a', { href: `/sessions/${encodeURIComponent(r.session)}`, 'data-link': true, class: 'session-link' }, 'session') : null,
    details);
}

/** ISO → the value of a datetime-local input (UTC shown as is). */
const local = (isoText) => (isoText ? isoText.slice(0, 19) : '');
/** A datetime-local value (taken as UTC) → ISO. */
const iso = (value) => (value ? new Date(`${value.length === 16 ? value + ':00' : value}Z`).toISOString() : undefined);

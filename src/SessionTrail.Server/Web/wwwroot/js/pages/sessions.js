// Sessions: search, filters, server-side paging and sorting (all kept in the URL).
import { h, replace, fmtTime, fmtDuration, fmtInt } from '../dom.js';
import { get } from '../api.js';
import { readQuery, dayToIso, applyQuery, select, textInput, filterForm } from '../filters.js';

const NAMES = ['q', 'user', 'host', 'stack', 'fleet', 'from', 'to', 'recorded', 'sort', 'offset'];
const PAGE = 50;
const SORTABLE = { user: 'user', start: 'start', duration: 'duration' };

export async function sessionsPage(main, { query }) {
  document.title = 'Sessions · SessionTrail';
  const chosen = readQuery(query, NAMES);
  const sort = chosen.sort || '-start';
  const offset = Math.max(0, parseInt(chosen.offset || '0', 10) || 0);
  const [page, facets] = await Promise.all([
    get('/sessions', {
      q: chosen.q, user: chosen.user, host: chosen.host, stack: chosen.stack, fleet: chosen.fleet,
      from: dayToIso(chosen.from), to: dayToIso(chosen.to, true), recorded: chosen.recorded, sort, offset, limit: PAGE,
    }),
    get('/facets').catch(() => ({ users: [], fleets: [], stacks: [] })),
  ]);
  const go = (changes) => applyQuery('/sessions', { ...chosen, sort, offset: undefined, ...changes });

  const form = filterForm('Find sessions', [
    ['Search (id, user, host)', h('input', { type: 'search', name: 'q', value: chosen.q || '', placeholder: 'e.g. alice' })],
    ['User', textInput('user', chosen.user, facets.users)],
    ['Host', h('input', { name: 'host', value: chosen.host || '' })],
    ['Stack', select('stack', facets.stacks, chosen.stack)],
    ['Fleet', select('fleet', facets.fleets, chosen.fleet)],
    ['From (UTC day)', h('input', { type: 'date', name: 'from', value: chosen.from || '' })],
    ['To (UTC day)', h('input', { type: 'date', name: 'to', value: chosen.to || '' })],
    ['Recording', h('select', { name: 'recorded' },
      h('option', { value: '' }, 'any'), h('option', { value: 'true', selected: chosen.recorded === 'true' }, 'recorded'),
      h('option', { value: 'false', selected: chosen.recorded === 'false' }, 'not recorded'))],
  ], (v) => applyQuery('/sessions', { ...v, sort }), () => applyQuery('/sessions', {}));

  const header = (label, key) => {
    if (!key) return h('th', { scope: 'col' }, label);
    const dir = sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : 'none';
    const next = sort === key ? `-${key}` : key;
    return h('th', { scope: 'col', 'aria-sort': dir },
      h('button', { type: 'button', class: 'sort', onclick: () => go({ sort: next }) }, label, dir === 'ascending' ? ' ▲' : dir === 'descending' ? ' ▼' : ''));
  };

  const rows = page.items.map((it) => h('tr', {},
    h('td', {}, h('a', { href: `/sessions/${encodeURIComponent(it.id)}`, 'data-link': true, class: 'sid' }, it.id)),
    h('td', {}, it.user || '—'), h('td', {}, it.host), h('td', {}, it.stack || '—'),
    h('td', {}, fmtTime(it.start)), h('td', { class: 'num' }, fmtDuration(it.duration)), h('td', { class: 'num' }, fmtInt(it.runs)),
    h('td', {}, (it.apps || []).join(', ')),
    h('td', {}, it.recording ? h('span', { class: 'badge rec' }, 'recorded') : '—')));

  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: page.offset <= 0, onclick: () => go({ offset: Math.max(0, page.offset - PAGE) || undefined }) }, '‹ Previous'),
    h('span', { role: 'status', id: 'sessions-count' }, `${fmtInt(first)}–${fmtInt(last)} of ${fmtInt(page.total)}`),
    h('button', { type: 'button', disabled: last >= page.total, onclick: () => go({ offset: page.offset + PAGE }) }, 'Next ›'));

  replace(main,
    h('h1', {}, 'Sessions'),
    form,
    h('div', { class: 'card table-wrap' },
      h('table', { class: 'data sessions' },
        h('caption', { class: 'sr-only' }, 'Sessions'),
        h('thead', {}, h('tr', {}, header('Session'), header('User', SORTABLE.user), header('Host'), header('Stack'),
          header('Start (UTC)', SORTABLE.start), header('Duration', SORTABLE.duration), header('Runs'), header('Applications'), header('Recording'))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No session matches.'))))),
    pager);
  if (offset && !page.items.length && page.total) go({ offset: undefined });
}

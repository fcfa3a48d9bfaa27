// The dashboard: top applications by time and by launches, usage per day, peak concurrency per application,
// active sessions now; filters for date range, user, fleet and stack (kept in the URL).
import { h, replace, fmtInt, fmtHours, fmtDuration } from '../dom.js';
import { get, apiUrl } from '../api.js';
import { chartCard, barChart, columnChart } from '../charts.js';
import { readQuery, dayToIso, applyQuery, select, textInput, filterForm } from '../filters.js';

const NAMES = ['from', 'to', 'user', 'fleet', 'stack'];

/** A program's file name for a chart label (the table keeps the full path). */
const base = (app) => String(app).split(/[\\/]/).pop();

export async function dashboardPage(main, { query }) {
  document.title = 'Dashboard · SessionTrail';
  const chosen = readQuery(query, NAMES);
  const filters = { from: dayToIso(chosen.from), to: dayToIso(chosen.to, true), user: chosen.user, fleet: chosen.fleet, stack: chosen.stack };
  const [data, facets] = await Promise.all([
    get('/dashboard', { ...filters, top: 10 }),
    get('/facets').catch(() => ({ users: [], fleets: [], stacks: [] })),
  ]);
  const csv = (part) => apiUrl(`/dashboard/${part}.csv`, filters);

  const form = filterForm('Dashboard filters', [
    ['From (UTC day)', h('input', { type: 'date', name: 'from', value: chosen.from || '' })],
    ['To (UTC day, included)', h('input', { type: 'date', name: 'to', value: chosen.to || '' })],
    ['User', textInput('user', chosen.user, facets.users)],
    ['Fleet', select('fleet', facets.fleets, chosen.fleet)],
    ['Stack', select('stack', facets.stacks, chosen.stack)],
  ], (v) => applyQuery('/', v), () => applyQuery('/', {}));

  const stat = (id, label, value) => h('div', { class: 'stat card', id }, h('span', { class: 'stat-value', dataset: { value: String(value) } }, fmtInt(value)), h('span', { class: 'stat-label' }, label));

  replace(main,
    h('h1', {}, 'Dashboard'),
    form,
    h('div', { class: 'stats' },
      stat('active-sessions', 'active sessions now', data.activeSessions),
      stat('active-users', 'active users now', data.activeUsers)),
    h('div', { class: 'charts' },
      chartCard({
        id: 'topByTime', title: 'Top applications by time (hours)', csv: csv('topByTime'), rows: data.topByTime,
        columns: [{ key: 'app', label: 'Application' }, { key: 'seconds', label: 'Time', numeric: true, format: fmtDuration },
          { key: 'runs', label: 'Runs', numeric: true, format: fmtInt }, { key: 'users', label: 'Users', numeric: true, format: fmtInt }],
        render: (rows) => barChart(rows, { label: (r) => base(r.app), value: (r) => r.seconds, format: (v) => `${fmtHours(v)} h`, title: 'Hours per application' }),
      }),
      chartCard({
        id: 'topByLaunches', title: 'Top applications by launches', csv: csv('topByLaunches'), rows: data.topByLaunches,
        columns: [{ key: 'app', label: 'Application' }, { key: 'launches', label: 'Launches', numeric: true, format: fmtInt },
          { key: 'users', label: 'Users', numeric: true, format: fmtInt }],
        render: (rows) => barChart(rows, { label: (r) => base(r.app), value: (r) => r.launches, title: 'Launches per application' }),
      }),
      chartCard({
        id: 'perDay', title: 'Usage per day (hours of application time)', csv: csv('perDay'), rows: data.perDay,
        columns: [{ key: 'day', label: 'Day (UTC)' }, { key: 'sessions', label: 'Sessions', numeric: true, format: fmtInt },
          { key: 'users', label: 'Users', numeric: true, format: fmtInt }, { key: 'runs', label: 'Runs', numeric: true, format: fmtInt },
          { key: 'seconds', label: 'Time', numeric: true, format: fmtDuration }],
        render: (rows) => columnChart(rows, { label: (r) => r.day, value: (r) => r.seconds / 3600, format: (v) => v.toFixed(1), title: 'Hours per day' }),
      }),
      chartCard({
        id: 'peakConcurrency', title: 'Peak concurrency per application (users at once)', csv: csv('peakConcurrency'), rows: data.peakConcurrency,
        columns: [{ key: 'app', label: 'Application' }, { key: 'peak', label: 'Peak users', numeric: true, format: fmtInt }, { key: 'day', label: 'Day (UTC)' },
          { key: 'peakRuns', label: 'Peak runs', numeric: true, format: fmtInt }],
        render: (rows) => barChart(rows, { label: (r) => base(r.app), value: (r) => r.peak, title: 'Peak concurrent runs per application' }),
      })));
}

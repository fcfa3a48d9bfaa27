// Hand-written SVG charts. Each chart is a <figure> with a caption, the chart, a "Table" toggle showing the
// numbers behind it, and a CSV download link.
import { h, s, fmtInt } from './dom.js';

/**
 * A chart card. spec: {id, title, csv (href), columns: [{key, label, format?, numeric?}], rows, render(rows) → svg}.
 */
export function chartCard(spec) {
  const tableId = `${spec.id}-table`;
  const chartId = `${spec.id}-chart`;
  const table = dataTable(spec.columns, spec.rows, spec.title);
  table.id = tableId;
  const chartBox = h('div', { class: 'chart', id: chartId });
  const empty = !spec.rows.length;
  chartBox.append(empty ? h('p', { class: 'muted' }, 'No data for these filters.') : spec.render(spec.rows));
  const tableBox = h('div', { class: 'table-wrap', hidden: true }, table);
  const toggle = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', 'aria-controls': `${chartId} ${tableId}` }, 'Table');
  toggle.addEventListener('click', () => {
    const showTable = tableBox.hidden;
    tableBox.hidden = !showTable;
    chartBox.hidden = showTable;
    toggle.setAttribute('aria-pressed', String(showTable));
    toggle.textContent = showTable ? 'Chart' : 'Table';
  });
  return h('figure', { class: 'card chart-card', id: spec.id, 'aria-labelledby': `${spec.id}-title` },
    h('div', { class: 'chart-head' },
      h('figcaption', { id: `${spec.id}-title` }, spec.title),
      h('div', { class: 'chart-actions' }, toggle, h('a', { href: spec.csv, download: `${spec.id}.csv`, class: 'csv' }, 'CSV'))),
    chartBox, tableBox);
}

/** A plain table: caption, header row, one row per item. */
export function dataTable(columns, rows, caption) {
  return h('table', { class: 'data' },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : '' }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) =>
      h('td', { class: c.numeric ? 'num' : '', dataset: { key: c.key, value: String(r[c.key] ?? '') } }, c.format ? c.format(r[c.key], r) : (r[c.key] ?? '—')))))));
}

/** Horizontal bars: one row per item, label left, value right. */
export function barChart(rows, { label, value, format = fmtInt, title }) {
  const rowH = 26, labelW = 180, valueW = 70, W = 640;
  const max = Math.max(...rows.map(value), 1);
  const svg = s('svg', { viewBox: `0 0 ${W} ${rows.length * rowH + 4}`, role: 'img', 'aria-label': title, class: 'bars' });
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = ((W - labelW - valueW) * value(r)) / max;
    svg.append(
      s('text', { x: labelW - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'lbl' }, truncate(label(r), 26)),
      s('rect', { x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 8, rx: 2, class: 'bar' }, s('title', {}, `${label(r)}: ${format(value(r))}`)),
      s('text', { x: labelW + w + 6, y: y + rowH / 2 + 4, class: 'val' }, format(value(r))));
  });
  return svg;
}

/** Vertical columns over days, with a y axis. */
export function columnChart(rows, { label, value, format = fmtInt, title }) {
  const W = 640, H = 220, left = 48, bottom = 36, top = 10;
  const max = Math.max(...rows.map(value), 1);
  const step = (W - left - 8) / rows.length;
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'columns' });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(s('line', { x1: left, x2: W - 4, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, format(v)));
  }
  const every = Math.ceil(rows.length / 10);
  rows.forEach((r, i) => {
    const x = left + i * step;
    svg.append(s('rect', { x: x + step * 0.15, y: y(value(r)), width: Math.max(step * 0.7, 1), height: H - bottom - y(value(r)), class: 'bar' },
      s('title', {}, `${label(r)}: ${format(value(r))}`)));
    if (i % every === 0) svg.append(s('text', { x: x + step / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'axis' }, label(r).slice(5)));
  });
  return svg;
}

const truncate = (t, n) => (t.length > n ? t.slice(0, n - 1) + '…' : t);

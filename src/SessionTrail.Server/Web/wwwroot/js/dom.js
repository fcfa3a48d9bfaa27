// Small DOM helpers: elements are built with properties and children, never from HTML strings.

/** h('a', {href: '/x', class: 'c', onclick}, 'text', child) → element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (attributes only). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v); // CSSOM: allowed by the CSP, unlike style attributes.
    else if (k in el && typeof v !== 'string') el[k] = v;
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "2026-11-30 10:00:05" (UTC) from an ISO string or ms. */
export function fmtTime(t) {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** "10:00:05" (UTC). */
export function fmtClock(t) {
  const d = new Date(t);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** "1 h 02 min", "3 min 05 s", "12.3 s" from seconds. */
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || Number.isNaN(sec)) return '—';
  const total = Math.round(sec);
  if (total < 60) return `${Math.round(sec * 10) / 10} s`;
  const hh = Math.floor(total / 3600), mm = Math.floor((total % 3600) / 60), ss = total % 60;
  return hh > 0 ? `${hh} h ${pad(mm)} min` : `${mm} min ${pad(ss)} s`;
}

/** Hours with one decimal, from seconds. */
export const fmtHours = (sec) => (sec / 3600).toFixed(1);

/** Integer with thousands separators. */
export const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

/** Unique id for label/aria wiring. */
let seq = 0;
export const uid = (p = 'id') => `${p}-${++seq}`;

/** A labelled form field: returns [label, control] wrapped in a div. */
export function field(label, control) {
  // The label names the form control itself, also when it comes wrapped (an input with its datalist).
  const target = control.matches('input, select, textarea') ? control : control.querySelector('input, select, textarea') || control;
  if (!target.id) target.id = uid('f');
  return h('div', { class: 'field' }, h('label', { for: target.id }, label), control);
}

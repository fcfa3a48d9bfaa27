// Filter forms kept in the page URL (so a view can be bookmarked and shared).
import { h, field } from './dom.js';
import { navigate } from './app.js';

/** The URL's values for `names` (empty ones left out). */
export function readQuery(query, names) {
  const out = {};
  for (const n of names) { const v = query.get(n); if (v) out[n] = v; }
  return out;
}

/** `YYYY-MM-DD` (a date input's value) → ISO start of that UTC day; `endOfDay` → start of the next day. */
export function dayToIso(day, endOfDay = false) {
  if (!day) return undefined;
  const d = new Date(`${day}T00:00:00.000Z`);
  if (Number.isNaN(d.getTime())) return undefined;
  if (endOfDay) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

/** Replaces the page URL's query with `values` and renders again. */
export function applyQuery(path, values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  navigate(text ? `${path}?${text}` : path);
}

/** A <select> with an empty "any" option and `options`, `value` selected. */
export function select(name, options, value, anyLabel = 'any') {
  return h('select', { name },
    h('option', { value: '' }, anyLabel),
    [...new Set([...(options || []), ...(value ? [value] : [])])].map((o) => h('option', { value: o, selected: o === value }, o)));
}

/** A text input, optionally with a datalist of suggestions. */
export function textInput(name, value, suggestions, extra = {}) {
  const input = h('input', { name, value: value || '', autocomplete: 'off', ...extra });
  if (!suggestions || !suggestions.length) return input;
  const listId = `${name}-options`;
  input.setAttribute('list', listId);
  return h('span', {}, input, h('datalist', { id: listId }, suggestions.map((v) => h('option', { value: v }))));
}

/** A filter form: fields + Apply + Clear; onApply(values of named controls). */
export function filterForm(label, fields, onApply, onClear) {
  const form = h('form', { class: 'filters card', 'aria-label': label, role: 'search' },
    fields.map(([text, control]) => field(text, control)),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', onclick: onClear }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = {};
    for (const el of form.elements) if (el.name) values[el.name] = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
    onApply(values);
  });
  return form;
}

// Users (admin): list accounts, add one, change a role or password, remove one.
import { h, replace, field } from '../dom.js';
import { get, post, put, del, enc, explain } from '../api.js';
import { atLeast, flash } from '../app.js';

const ROLES = ['viewer', 'auditor', 'admin'];

export async function usersPage(main) {
  document.title = 'Users · SessionTrail';
  if (!atLeast('admin')) {
    replace(main, h('h1', {}, 'Users'), h('p', { class: 'error', role: 'alert' }, 'Only an admin may manage users.'));
    return;
  }
  const answer = await get('/users');
  const users = Array.isArray(answer) ? answer : answer.users || [];
  const reload = () => usersPage(main);
  const run = async (what, fn) => {
    try { await fn(); flash(what, 'info'); await reload(); } catch (e) { flash(explain(e)); }
  };
  const roleSelect = (value, name = 'role') => h('select', { name }, ROLES.map((r) => h('option', { value: r, selected: r === value }, r)));

  const rows = users.map((u) => {
    const name = u.user || u.name;
    const role = roleSelect(u.role);
    role.setAttribute('aria-label', `Role of ${name}`);
    return h('tr', {},
      h('th', { scope: 'row' }, name),
      h('td', {}, role, ' ', h('button', { type: 'button', onclick: () => run(`${name} is now ${role.value}.`, () => put(`/users/${enc(name)}`, { role: role.value })) }, 'Save role')),
      h('td', {}, passwordForm(name, (password) => run(`Password of ${name} changed.`, () => put(`/users/${enc(name)}`, { password })))),
      h('td', {}, h('button', {
        type: 'button', class: 'danger',
        onclick: () => { if (confirm(`Remove ${name}?`)) run(`${name} removed.`, () => del(`/users/${enc(name)}`)); },
      }, 'Remove')));
  });

  const user = h('input', { name: 'user', required: true, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 8 });
  const role = roleSelect('viewer');
  const form = h('form', { class: 'card filters', 'aria-label': 'Add a user' },
    field('User name', user), field('Role', role), field('Password', password),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run(`${user.value} added.`, () => post('/users', { user: user.value.trim(), role: role.value, password: password.value }));
  });

  replace(main, h('h1', {}, 'Users'),
    h('div', { class: 'card table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'sr-only' }, 'Accounts'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'User'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Password'), h('th', { scope: 'col' }, 'Remove'))),
      h('tbody', {}, rows))),
    h('h2', {}, 'Add a user'), form);
}

/** A password box and its button for one account (no prompt dialogs). */
function passwordForm(name, onSet) {
  const input = h('input', { type: 'password', autocomplete: 'new-password', minlength: 8, required: true, 'aria-label': `New password for ${name}` });
  const form = h('form', { class: 'inline' }, input, ' ', h('button', { type: 'submit' }, 'Set password'));
  form.addEventListener('submit', (e) => { e.preventDefault(); onSet(input.value); });
  return form;
}

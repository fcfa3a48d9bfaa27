// Users (admin): accounts (add, change a role or password, remove) and API tokens (create, shown once; revoke).
import { h, replace, field, fmtTime } from '../dom.js';
import { get, post, put, del, enc, explain } from '../api.js';
import { atLeast, flash } from '../app.js';

const ROLES = ['viewer', 'auditor', 'admin'];
const TOKEN_ROLES = ['agent', 'viewer', 'auditor', 'admin'];

export async function usersPage(main, ctx, shownToken) {
  document.title = 'Users · SessionTrail';
  if (!atLeast('admin')) {
    replace(main, h('h1', {}, 'Users'), h('p', { class: 'error', role: 'alert' }, 'Only an admin may manage users.'));
    return;
  }
  const [answer, tokens] = await Promise.all([get('/users'), get('/tokens')]);
  const users = Array.isArray(answer) ? answer : answer.users || [];
  const reload = (token) => usersPage(main, ctx, token);
  const run = async (what, fn) => {
    try { await fn(); await reload(); flash(what, 'info'); } catch (e) { flash(explain(e)); }
  };
  const roleSelect = (value, roles = ROLES) => h('select', { name: 'role' }, roles.map((r) => h('option', { value: r, selected: r === value }, r)));

  const rows = users.map((u) => {
    const name = u.user || u.name;
    const role = roleSelect(u.role);
    role.setAttribute('aria-label', `Role of ${name}`);
    return h('tr', {},
      h('th', { scope: 'row' }, name, u.disabled ? h('span', { class: 'badge' }, ' disabled') : null),
      h('td', {}, fmtTime(u.created)),
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

  // API tokens: agents (ingest, upload) and scripts. A new token is shown once, here.
  const tokenName = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const tokenRole = roleSelect('agent', TOKEN_ROLES);
  const tokenForm = h('form', { class: 'card filters', 'aria-label': 'Create a token' },
    field('Token name', tokenName), field('Token role', tokenRole),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create token')));
  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await post('/tokens', { name: tokenName.value.trim(), role: tokenRole.value });
      await reload(created);
      flash(`Token ${created.name} created; copy it now, it is not shown again.`, 'info');
    } catch (err) { flash(explain(err)); }
  });
  const tokenRows = tokens.map((t) => h('tr', {},
    h('th', { scope: 'row' }, t.name), h('td', {}, t.role), h('td', {}, fmtTime(t.created)),
    h('td', {}, h('button', {
      type: 'button', class: 'danger', 'aria-label': `Revoke token ${t.name}`,
      onclick: () => { if (confirm(`Revoke token ${t.name}? Whatever uses it is refused from then on.`)) run(`Token ${t.name} revoked.`, () => del(`/tokens/${t.id}`)); },
    }, 'Revoke'))));

  replace(main, h('h1', {}, 'Users'),
    h('div', { class: 'card table-wrap' }, h('table', { class: 'data accounts' },
      h('caption', { class: 'sr-only' }, 'Accounts'),
      h('thead', {}, h('tr', {}, ['User', 'Created (UTC)', 'Role', 'Password', 'Remove'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows))),
    h('h2', {}, 'Add a user'), form,
    h('h2', { id: 'tokens-h' }, 'API tokens'),
    shownToken ? h('p', { class: 'card new-token', role: 'status' }, `New token ${shownToken.name} (${shownToken.role}): `, h('code', { id: 'new-token' }, shownToken.token)) : null,
    h('div', { class: 'card table-wrap' }, h('table', { class: 'data tokens', 'aria-labelledby': 'tokens-h' },
      h('thead', {}, h('tr', {}, ['Name', 'Role', 'Created (UTC)', 'Revoke'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, tokenRows.length ? tokenRows : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No token.'))))),
    tokenForm);
}

/** A password box and its button for one account (no prompt dialogs). */
function passwordForm(name, onSet) {
  const input = h('input', { type: 'password', autocomplete: 'new-password', minlength: 8, required: true, 'aria-label': `New password for ${name}` });
  const form = h('form', { class: 'inline' }, input, ' ', h('button', { type: 'submit' }, 'Set password'));
  form.addEventListener('submit', (e) => { e.preventDefault(); onSet(input.value); });
  return form;
}

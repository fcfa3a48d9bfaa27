// Sign-in: POST /api/v1/auth/login {user,password} → {user, role, csrf}; the cookie is set by the server.
import { h, replace, field } from '../dom.js';
import { post, explain, ApiError } from '../api.js';
import { navigate, setMe, auth } from '../app.js';

export async function signinPage(main, { query }) {
  const next = safeNext(query.get('next'));
  if (auth.me) { navigate(next, { replaceState: true }); return; }
  document.title = 'Sign in · SessionTrail';
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'signin card', 'aria-describedby': 'signin-error' },
    h('h1', {}, 'Sign in to SessionTrail'),
    field('User name', user), field('Password', password), error, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      const me = await post('/auth/login', { user: user.value.trim(), password: password.value });
      setMe(me);
      navigate(next, { replaceState: true });
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 429
        ? `Too many failed sign-ins; wait a while. (${err.message})` : explain(err);
      password.value = '';
      password.focus();
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  user.focus();
}

/** Only a local path (no //host, no scheme) may be the page after sign-in. */
function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/';
}

// The shell: who is signed in, navigation (history routing), page dispatch, flash messages.
import { h, replace } from './dom.js';
import { ApiError, get, onUnauthorized, post, setCsrf, explain } from './api.js';
import { signinPage } from './pages/signin.js';
import { dashboardPage } from './pages/dashboard.js';
import { sessionsPage } from './pages/sessions.js';
import { sessionPage } from './pages/session.js';
import { logsPage } from './pages/logs.js';
import { usersPage } from './pages/users.js';

const RANK = { viewer: 1, auditor: 2, admin: 3 };

/** The signed-in user ({user, role}) or null. */
export const auth = { me: null };

/** True when the signed-in role is at least `role`. */
export const atLeast = (role) => !!auth.me && (RANK[auth.me.role] || 0) >= RANK[role];

const routes = [
  { re: /^\/signin$/, page: signinPage, name: 'signin', open: true },
  { re: /^\/$/, page: dashboardPage, name: 'dashboard' },
  { re: /^\/sessions$/, page: sessionsPage, name: 'sessions' },
  { re: /^\/sessions\/([^/]+)$/, page: sessionPage, name: 'sessions' },
  { re: /^\/logs$/, page: logsPage, name: 'logs' },
  { re: /^\/users$/, page: usersPage, name: 'users' },
];

let current = null; // the current page's dispose function

/** Goes to a path (pushState) and renders it. */
export function navigate(path, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

/** Shows a message above the page (role=alert); kind: error | info. */
export function flash(text, kind = 'error') {
  const el = document.getElementById('flash');
  el.hidden = !text;
  el.className = `flash ${kind}`;
  el.textContent = text || '';
}

function signinPath() {
  const here = location.pathname + location.search;
  return here.startsWith('/signin') ? here : `/signin?next=${encodeURIComponent(here)}`;
}

function showShell() {
  const top = document.getElementById('top');
  top.hidden = !auth.me;
  if (!auth.me) return;
  document.getElementById('who-name').textContent = auth.me.user;
  document.getElementById('who-role').textContent = auth.me.role;
  document.getElementById('nav-users').hidden = !atLeast('admin');
}

async function render() {
  if (current) { try { current(); } catch { /* ignore */ } current = null; }
  flash('');
  const path = location.pathname;
  const route = routes.find((r) => r.re.test(path));
  const main = document.getElementById('main');
  showShell();
  if (!route) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '/', 'data-link': true }, 'Go to the dashboard')));
    return;
  }
  if (!route.open && !auth.me) { navigate(signinPath(), { replaceState: true }); return; }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === route.name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const params = route.re.exec(path).slice(1).map(decodeURIComponent);
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const dispose = await route.page(main, { params, query: new URLSearchParams(location.search) });
    current = typeof dispose === 'function' ? dispose : null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return; // the handler went to sign-in
    replace(main, h('h1', {}, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, explain(e)));
  }
}

/** Sets the signed-in user after sign-in (or null, or /auth/me's {signedIn:false}, after sign-out). */
export function setMe(me) {
  const signedIn = !!me && me.signedIn !== false;
  auth.me = signedIn ? { user: me.user, role: me.role } : null;
  setCsrf(signedIn ? me.csrf : null);
  showShell();
}

onUnauthorized(() => {
  if (location.pathname === '/signin') return; // several requests of one page may each answer 401
  setMe(null);
  history.replaceState(null, '', signinPath());
  render(); // clears the flash synchronously, so the message goes after it
  flash('Your session has ended; please sign in again.', 'info');
});

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
  document.getElementById('main').focus({ preventScroll: false });
});

window.addEventListener('popstate', render);

document.getElementById('signout').addEventListener('click', async () => {
  try { await post('/auth/logout'); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) { flash(explain(e)); return; } }
  setMe(null);
  navigate('/signin');
});

async function boot() {
  // The sign-in page needs nobody. Elsewhere /auth/me answers 200 {signedIn:false} when nobody is signed in (also
  // for the cookie of an ended session), so opening the page signed out fails no request and logs nothing.
  if (location.pathname === '/signin') { setMe(null); render(); return; }
  let problem = null;
  try {
    setMe(await get('/auth/me'));
  } catch (e) {
    problem = `Cannot ask the server who you are: ${explain(e)}`;
    setMe(null);
  }
  render(); // clears the flash synchronously, so the message goes after it
  if (problem) flash(problem);
}

boot();

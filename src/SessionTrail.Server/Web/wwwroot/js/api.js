// The API client: cookie session, X-CSRF-Token on unsafe methods, 401 → sign-in, errors as ApiError.

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrf = null;
let unauthorizedHandler = () => {};

/** An API answer other than 2xx: status and the server's error text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function setCsrf(token) { csrf = token || null; }
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

/** The URL of an API path with the non-empty query values. */
export function apiUrl(path, query) {
  const url = new URL('/api/v1' + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  return url.pathname + url.search;
}

/** Calls the API; returns {body, headers, status}. Throws ApiError for non-2xx (after the 401 handler). */
export async function request(path, { method = 'GET', query, body, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrf) h['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(apiUrl(path, query), {
      method, headers: h, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e.message})`);
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  }
  if (!res.ok) {
    const message = (data && typeof data === 'object' && data.error) || (typeof data === 'string' && data.trim()) || `${res.status} ${res.statusText}`;
    const err = new ApiError(res.status, message, data);
    if (res.status === 401 && !path.startsWith('/auth/')) unauthorizedHandler(err);
    throw err;
  }
  return { body: data, headers: res.headers, status: res.status };
}

export const get = async (path, query) => (await request(path, { query })).body;
export const post = async (path, body) => (await request(path, { method: 'POST', body })).body;
export const put = async (path, body) => (await request(path, { method: 'PUT', body })).body;
export const del = async (path) => (await request(path, { method: 'DELETE' })).body;

/** A session id as one path segment. */
export const enc = (id) => encodeURIComponent(id);

/** Words for an error, for the page: 403 says what the role may not do. */
export function explain(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.status === 403) return `Not allowed: ${err.message}`;
  if (err.status === 404) return `Not found: ${err.message}`;
  return err.message;
}

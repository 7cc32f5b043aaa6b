// api: every call to heard's JSON API (/api/v1/), with the session's
// CSRF token on writes and errors turned into ApiError.

const BASE = '/api/v1';

let csrf = null;
let onUnauthenticated = null;

export class ApiError extends Error {
	constructor(status, code, detail) {
		super(detail || code || ('HTTP ' + status));
		this.status = status;
		this.code = code || 'http_' + status;
		this.detail = detail || this.message;
	}
}

// The token /login, /invitations/accept or /me handed us.
export function setCsrf(token) {
	csrf = token || null;
}

// Called (once per failure) when a request finds the session gone.
export function onSessionLost(fn) {
	onUnauthenticated = fn;
}

// Path and query ({key: value}; empty values left out) as a URL.
export function url(path, query) {
	const q = new URLSearchParams();

	for (const [k, v] of Object.entries(query || {}))
		if (v !== undefined && v !== null && v !== '' && v !== false)
			q.set(k, v === true ? '1' : String(v));
	const s = q.toString();
	return BASE + path + (s ? '?' + s : '');
}

async function send(method, path, body, query) {
	const headers = {'Accept': 'application/json'};
	const init = {method, headers, credentials: 'same-origin',
	    cache: 'no-store'};

	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	if (method !== 'GET' && method !== 'HEAD' && csrf)
		headers['X-CSRF-Token'] = csrf;
	let res;
	try {
		res = await fetch(url(path, query), init);
	} catch (e) {
		throw new ApiError(0, 'network',
		    'heard did not answer (' + e.message + ')');
	}
	return res;
}

async function decode(res) {
	const text = await res.text();
	let data = null;

	if (text) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			if (res.ok)
				throw new ApiError(res.status, 'bad_response',
				    'heard answered something that is not JSON');
		}
	}
	if (res.ok)
		return data;
	const code = data && data.error;
	let detail = data && data.detail;
	if (!detail)
		detail = 'heard answered ' + res.status + ' ' + res.statusText;
	if (res.status === 429 && res.headers.get('Retry-After'))
		detail += ' (try again in ' + res.headers.get('Retry-After') +
		    ' s)';
	throw new ApiError(res.status, code, detail);
}

// One call. A write refused for its CSRF token fetches a fresh token
// from /me and is tried once more; a lost session calls the handler.
export async function call(method, path, {body, query, quiet401} = {}) {
	let res = await send(method, path, body, query);

	if (res.status === 403 && method !== 'GET') {
		const clone = res.clone();
		const data = await clone.json().catch(() => null);
		if (data && data.error === 'csrf' && await refreshCsrf())
			res = await send(method, path, body, query);
	}
	try {
		return await decode(res);
	} catch (e) {
		if (e.status === 401 && !quiet401 && onUnauthenticated)
			onUnauthenticated(e);
		throw e;
	}
}

async function refreshCsrf() {
	const res = await send('GET', '/me');
	if (!res.ok)
		return false;
	const me = await res.json().catch(() => null);
	if (!me || !me.csrf)
		return false;
	setCsrf(me.csrf);
	return true;
}

export const get = (path, query, opts) => call('GET', path,
    {...opts, query});
export const post = (path, body) => call('POST', path, {body});
export const put = (path, body) => call('PUT', path, {body});
export const patch = (path, body) => call('PATCH', path, {body});
export const del = (path) => call('DELETE', path);

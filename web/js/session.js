// session: who is logged in (from /me or /login), shared by the views.

import * as api from './api.js';

let me = null;

export function user() {
	return me;
}

export function isAdmin() {
	return me !== null && me.role === 'admin';
}

// Takes /me's answer, or the "user" and "csrf" of /login's.
export function set(user, csrf) {
	me = user;
	api.setCsrf(csrf || (user && user.csrf));
}

export function clear() {
	me = null;
	api.setCsrf(null);
}

// Asks /me; null when nobody is logged in.
export async function load() {
	try {
		const m = await api.get('/me', undefined, {quiet401: true});
		set(m, m.csrf);
		return m;
	} catch (e) {
		if (e.status === 401) {
			clear();
			return null;
		}
		throw e;
	}
}

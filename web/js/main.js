// main: boots the inbox: the session, the header and the hash router.

import * as api from './api.js';
import * as session from './session.js';
import {fill, el, showError, clearStatus} from './dom.js';
import * as login from './views/login.js';
import * as invite from './views/invite.js';
import * as inbox from './views/inbox.js';
import * as signup from './views/signup.js';
import * as sources from './views/sources.js';
import * as settings from './views/settings.js';

// Route patterns; the first match wins. Public routes need no session.
const ROUTES = [
	{re: /^\/login$/, view: login, public: true},
	{re: /^\/invite\/([A-Za-z0-9_.~-]+)$/, view: invite, public: true},
	{re: /^\/threads$/, view: inbox, nav: 'threads'},
	{re: /^\/threads\/(\d+)$/, view: inbox, nav: 'threads'},
	{re: /^\/signup$/, view: signup, nav: 'signup', admin: true},
	{re: /^\/sources$/, view: sources, nav: 'sources'},
	{re: /^\/settings$/, view: settings, nav: 'settings'},
];

const main = document.getElementById('main');
const flash = document.getElementById('flash');
let current = null;	// the view on screen
let afterLogin = null;	// where to go once logged in
let pendingFlash = null;	// an error to show on the next page

// "#/threads/4?org=RJ1" -> {path: '/threads/4', query: URLSearchParams}
export function parseHash(hash) {
	const h = hash.replace(/^#/, '') || '/threads';
	const i = h.indexOf('?');
	return {path: i < 0 ? h : h.slice(0, i),
	    query: new URLSearchParams(i < 0 ? '' : h.slice(i + 1))};
}

export function go(hash) {
	if (location.hash === hash)
		route();
	else
		location.hash = hash;
}

function match(path) {
	for (const r of ROUTES) {
		const m = r.re.exec(path);
		if (m)
			return {r, params: m.slice(1)};
	}
	return null;
}

function showHeader() {
	const me = session.user();
	document.getElementById('nav').hidden = me === null;
	document.getElementById('who').hidden = me === null;
	document.getElementById('who-name').textContent = me ?
	    (me.name || me.email) + ' (' + me.role + ')' : '';
	for (const li of document.querySelectorAll('[data-admin]'))
		li.hidden = !session.isAdmin();
}

function markNav(name) {
	for (const a of document.querySelectorAll('[data-nav]')) {
		if (a.dataset.nav === name)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
}

async function route() {
	const {path, query} = parseHash(location.hash);
	const m = match(path);

	clearStatus(flash);
	if (pendingFlash) {
		showError(flash, pendingFlash);
		pendingFlash = null;
	}
	showHeader();
	if (m === null) {
		go('#/threads');
		return;
	}
	if (!m.r.public && session.user() === null) {
		afterLogin = location.hash;
		go('#/login');
		return;
	}
	if (m.r.admin && !session.isAdmin()) {
		pendingFlash = 'Only an admin can open that page.';
		go('#/threads');
		return;
	}
	markNav(m.r.nav);
	const ctx = {params: m.params, query, path, main, go, loggedIn,
	    flash};
	try {
		const view = m.r.view;
		if (current !== view || !view.update || !view.update(ctx)) {
			if (current && current.leave)
				current.leave();
			current = view;
			fill(main);
			await view.show(ctx);
		}
	} catch (e) {
		showError(flash, e);
	}
}

// A view that logged someone in hands over here; /me then fills in
// what the log-in answer may leave out (the organisations).
async function loggedIn(user, csrf) {
	session.set(user, csrf);
	try {
		await session.load();
	} catch (e) {
		// keep what the log-in said
	}
	showHeader();
	const to = afterLogin && !afterLogin.startsWith('#/login') &&
	    !afterLogin.startsWith('#/invite') ? afterLogin : '#/threads';
	afterLogin = null;
	go(to);
}

async function logout() {
	try {
		await api.post('/logout');
	} catch (e) {
		if (e.status !== 401) {
			showError(flash, e);
			return;
		}
	}
	session.clear();
	current = null;
	go('#/login');
}

// Several requests may find the session gone at once; the first one
// keeps where the user was.
function sessionLost() {
	session.clear();
	current = null;
	if (!location.hash.startsWith('#/login')) {
		afterLogin = location.hash;
		pendingFlash = 'Your session has ended; please log in again.';
		location.hash = '#/login';
	}
}

async function boot() {
	api.onSessionLost(sessionLost);
	document.getElementById('logout').addEventListener('click', logout);
	document.getElementById('skip').addEventListener('click', (ev) => {
		ev.preventDefault();
		main.focus();
	});
	window.addEventListener('hashchange', route);
	try {
		await session.load();
	} catch (e) {
		fill(main, el('p', {}, 'heard could not be reached.'));
		showError(flash, e);
		return;
	}
	route();
}

boot();

// sources: connector health (#/sources[?org=CODE]): last success, last
// error, failures in a row, next poll; an admin can poll now or pause.

import * as api from '../api.js';
import * as session from '../session.js';
import {el, fill, statusArea, showError, showNote, clearStatus,
    time} from '../dom.js';
import {channelLabel, ago, HEALTH, healthLabel} from '../format.js';

const ORDER = {failing: 0, paused: 1, new: 2, ok: 3};

let view = null;

export async function show(ctx) {
	const status = statusArea();
	const list = el('ul', {className: 'sources', id: 'source-list'});
	const refresh = el('button', {type: 'button', id: 'sources-refresh'},
	    'Refresh');
	const org = ctx.query.get('org') || '';
	const summary = el('p', {className: 'muted', id: 'sources-summary',
	    'aria-live': 'polite'});
	view = {ctx, status, list, org, summary};
	refresh.addEventListener('click', () => load(view));
	fill(ctx.main, el('div', {className: 'page'},
	    el('div', {className: 'page-head'},
	    el('h1', {}, org ? 'Sources of ' + org : 'Sources'),
	    org ? el('a', {href: '#/sources'}, 'All organisations') : null,
	    refresh),
	    summary, status, list));
	await load(view);
}

export function leave() {
	view = null;
}

async function load(v) {
	clearStatus(v.status);
	let items;
	try {
		items = await allSources(v.org);
	} catch (e) {
		showError(v.status, e);
		return;
	}
	if (view !== v)
		return;
	// What needs someone first: failing, then paused, new, working.
	items.sort((a, b) => (ORDER[a.health] ?? 9) - (ORDER[b.health] ?? 9) ||
	    a.id - b.id);
	const n = {};
	for (const s of items)
		n[s.health] = (n[s.health] || 0) + 1;
	v.summary.textContent = items.length + (items.length === 1 ?
	    ' source' : ' sources') + ': ' + Object.keys(HEALTH).filter((h) =>
	    n[h]).map((h) => n[h] + ' ' + HEALTH[h].toLowerCase()).join(', ');
	fill(v.list, items.map((s) => card(v, s)));
	if (!items.length)
		v.list.append(el('li', {className: 'empty'}, 'No sources.'));
}

// Every page of GET /sources (a bare array is taken as one page).
export async function allSources(org) {
	const out = [];
	let cursor = null;
	for (let page = 0; page < 100; page++) {
		const r = await api.get('/sources', {org, limit: 200, cursor});
		if (Array.isArray(r))
			return out.concat(r);
		out.push(...(r.items || []));
		cursor = r.next_cursor;
		if (!cursor)
			break;
	}
	return out;
}

function settingsText(settings) {
	return Object.entries(settings || {}).map(([k, val]) =>
	    k + '=' + (typeof val === 'string' ? val : JSON.stringify(val)))
	    .join('  ');
}

function card(v, s) {
	const row = (label, ...value) => [el('dt', {}, label),
	    el('dd', {}, value)];
	const li = el('li', {className: 'source card' +
	    (s.health === 'failing' ? ' is-failing' : ''),
	    dataset: {id: String(s.id)}},
	    el('h2', {},
	    el('span', {className: 'badge health-' + s.health},
	    healthLabel(s.health)), ' ',
	    channelLabel(s.connector), ' for ',
	    el('a', {href: '#/threads?org=' + encodeURIComponent(s.org)},
	    s.org), el('span', {className: 'muted'}, ' · source ' + s.id)),
	    el('dl', {},
	    row('Last success', time(s.last_ok),
	    s.last_ok ? ' (' + ago(s.last_ok) + ')' : ''),
	    row('Last error', s.last_error ?
	    el('span', {className: 'error-text'}, s.last_error) : 'none',
	    s.last_error_at ? [' ', time(s.last_error_at)] : null),
	    row('Failures in a row', String(s.failures ?? 0)),
	    row('Next poll', s.paused ? 'paused' : time(s.next_poll)),
	    row('Settings', el('code', {}, settingsText(s.settings)))));
	if (session.isAdmin())
		li.append(actions(v, s));
	return li;
}

function actions(v, s) {
	const note = statusArea();
	const poll = el('button', {type: 'button', className: 'poll-now'},
	    'Poll now');
	const pause = el('button', {type: 'button'},
	    s.paused ? 'Resume' : 'Pause');
	poll.addEventListener('click', async () => {
		clearStatus(note);
		poll.disabled = true;
		try {
			await api.post('/sources/' + s.id + '/poll');
			showNote(note, 'Polling now; refresh in a moment.');
		} catch (e) {
			showError(note, e);
		} finally {
			poll.disabled = false;
		}
	});
	pause.addEventListener('click', async () => {
		pause.disabled = true;
		try {
			await api.patch('/sources/' + s.id, {paused: !s.paused});
			await load(v);
		} catch (e) {
			showError(note, e);
			pause.disabled = false;
		}
	});
	return el('div', {className: 'actions'}, poll, pause, note);
}

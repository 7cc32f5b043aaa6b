// inbox: the conversation list with its filters, and the open thread
// beside it (#/threads, #/threads/<id>; filters live in the hash query).

import * as api from '../api.js';
import * as session from '../session.js';
import {el, fill, field, select, statusArea, showError, clearStatus,
    time} from '../dom.js';
import {STATUSES, SEVERITIES, statusLabel, severityLabel, channelLabel,
    ago} from '../format.js';
import * as thread from './thread.js';

const FILTERS = ['org', 'connector', 'status', 'severity', 'unread',
    'assigned', 'q'];

let ui = null;	// the elements and state of the inbox on screen

// The filters of a hash query, as the API's query (unset ones left out).
function filtersOf(query) {
	const f = {};
	for (const k of FILTERS) {
		const v = query.get(k);
		if (v)
			f[k] = v;
	}
	return f;
}

function queryString(f) {
	const q = new URLSearchParams(f).toString();
	return q ? '?' + q : '';
}

export async function show(ctx) {
	const filters = filtersOf(ctx.query);
	ui = {ctx, filters, key: queryString(filters), cursor: null,
	    openId: null};
	ui.status = statusArea();
	ui.list = el('ul', {className: 'threads', id: 'thread-list',
	    'aria-label': 'Conversations'});
	ui.more = el('button', {type: 'button', className: 'more', hidden: true},
	    'Load more');
	ui.more.addEventListener('click', () => loadList(true));
	ui.counts = el('p', {className: 'counts muted', 'aria-live': 'polite'});
	({form: ui.form, controls: ui.controls} = filterForm(filters));
	ui.pane = el('section', {className: 'thread-pane', id: 'thread-pane',
	    'aria-label': 'Conversation'});
	ui.root = el('div', {className: 'inbox'},
	    el('section', {className: 'list-pane', 'aria-label': 'Inbox'},
	    el('h1', {className: 'visually-hidden'}, 'Inbox'),
	    ui.form, ui.counts, ui.status, ui.list, ui.more),
	    ui.pane);
	fill(ctx.main, ui.root);
	await Promise.all([loadCounts(), loadList(false)]);
	openThread(ctx.params[0]);
}

// Same view, new hash: reload the list only when the filters changed.
export function update(ctx) {
	if (ui === null || !document.body.contains(ui.root))
		return false;
	ui.ctx = ctx;
	const filters = filtersOf(ctx.query);
	const key = queryString(filters);
	if (key !== ui.key) {
		ui.filters = filters;
		ui.key = key;
		syncForm(filters);
		loadList(false);
	}
	openThread(ctx.params[0]);
	return true;
}

export function leave() {
	ui = null;
}

function filterForm(f) {
	const org = select({name: 'org', id: 'filter-org'},
	    [['', 'All organisations']], f.org);
	const connector = select({name: 'connector', id: 'filter-connector'},
	    [['', 'All channels']], f.connector);
	const status = select({name: 'status', id: 'filter-status'},
	    [['', 'Any status'], ...STATUSES], f.status);
	const severity = select({name: 'severity', id: 'filter-severity'},
	    [['', 'Any severity'], ...SEVERITIES], f.severity);
	const unread = el('input', {type: 'checkbox', name: 'unread',
	    id: 'filter-unread', checked: !!f.unread});
	const assigned = el('input', {type: 'checkbox', name: 'assigned',
	    id: 'filter-assigned', checked: f.assigned === 'me'});
	const q = el('input', {type: 'search', name: 'q', id: 'filter-q',
	    value: f.q || '', placeholder: 'Words in the messages'});
	const form = el('form', {className: 'filters', role: 'search',
	    'aria-label': 'Filter conversations'},
	    field('Organisation', org), field('Channel', connector),
	    field('Status', status), field('Severity', severity),
	    el('div', {className: 'field search'},
	    el('label', {htmlFor: q.id}, 'Search'),
	    el('div', {className: 'inline'}, q,
	    el('button', {type: 'submit'}, 'Search'))),
	    el('div', {className: 'checks'},
	    el('label', {className: 'check'}, unread, ' Unread only'),
	    el('label', {className: 'check'}, assigned, ' Assigned to me'),
	    el('button', {type: 'button', className: 'link filters-toggle',
	    id: 'filters-toggle', 'aria-expanded': 'false'}, 'More filters'),
	    el('button', {type: 'button', className: 'link', id: 'refresh'},
	    'Refresh')));
	// On a phone the four lists fold away behind "More filters"; they
	// start open when one of them is in use.
	const toggle = form.querySelector('#filters-toggle');
	const setOpen = (open) => {
		form.classList.toggle('open', open);
		toggle.setAttribute('aria-expanded', String(open));
		toggle.textContent = open ? 'Fewer filters' : 'More filters';
	};
	setOpen(['org', 'connector', 'status', 'severity'].some((k) => f[k]));
	toggle.addEventListener('click', () =>
	    setOpen(!form.classList.contains('open')));
	const controls = {org, connector, status, severity, unread, assigned,
	    q};
	const apply = () => {
		const next = {};
		for (const [k, c] of Object.entries(controls)) {
			if (c.type === 'checkbox') {
				if (c.checked)
					next[k] = k === 'assigned' ? 'me' : '1';
			} else if (c.value.trim()) {
				next[k] = c.value.trim();
			}
		}
		ui.ctx.go('#/threads' + queryString(next));
	};
	form.addEventListener('change', (ev) => {
		if (ev.target !== q)
			apply();
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		apply();
	});
	form.querySelector('#refresh').addEventListener('click', () => {
		loadCounts();
		loadList(false);
		if (ui.openId)
			thread.reload();
	});
	return {form, controls};
}

function syncForm(f) {
	const e = ui.controls;
	for (const k of ['org', 'connector', 'status', 'severity'])
		e[k].value = f[k] || '';
	e.unread.checked = !!f.unread;
	e.assigned.checked = f.assigned === 'me';
	e.q.value = f.q || '';
}

// Puts an option for every organisation and channel the counts name,
// with their unread and total counts, keeping the chosen one.
function setOptions(sel, allLabel, rows) {
	const chosen = sel.value || (ui && ui.filters[sel.name]) || '';
	const opts = [['', allLabel]];
	for (const r of rows)
		opts.push([r.value, r.label + ' (' + r.unread + ' unread of ' +
		    r.total + ')']);
	if (chosen && !rows.some((r) => r.value === chosen))
		opts.push([chosen, chosen]);
	fill(sel, opts.map(([v, l]) => el('option', {value: v,
	    selected: v === chosen}, l)));
}

async function loadCounts() {
	const mine = ui;
	let c;
	try {
		c = await api.get('/threads/counts');
	} catch (e) {
		showError(mine.status, e);
		return;
	}
	if (ui !== mine)
		return;
	const orgs = (c.orgs || []).map((o) => ({value: o.code,
	    label: (o.name || o.code) + ' · ' + o.code, unread: o.unread,
	    total: o.total}));
	const chans = (c.connectors || []).map((k) => ({value: k.name,
	    label: channelLabel(k.name), unread: k.unread, total: k.total}));
	setOptions(ui.controls.org, 'All organisations', orgs);
	setOptions(ui.controls.connector, 'All channels', chans);
	const unread = orgs.reduce((n, o) => n + (o.unread || 0), 0);
	ui.counts.textContent = unread === 1 ? '1 unread conversation' :
	    unread + ' unread conversations';
}

async function loadList(more) {
	const mine = ui;
	const query = {...mine.filters, limit: 50};
	if (more && mine.cursor)
		query.cursor = mine.cursor;
	clearStatus(mine.status);
	mine.more.disabled = true;
	let page;
	try {
		page = await api.get('/threads', query);
	} catch (e) {
		if (ui === mine)
			showError(mine.status, e);
		mine.more.disabled = false;
		return;
	}
	if (ui !== mine || (!more && queryString(mine.filters) !== mine.key))
		return;
	const items = page.items || [];
	if (!more)
		fill(mine.list);
	for (const t of items)
		mine.list.append(threadItem(t));
	if (!more && items.length === 0)
		mine.list.append(el('li', {className: 'empty'},
		    Object.keys(mine.filters).length ?
		    'No conversation matches these filters.' :
		    'No conversations yet.'));
	mine.cursor = page.next_cursor || null;
	mine.more.hidden = mine.cursor === null;
	mine.more.disabled = false;
	markOpen();
}

function threadItem(t) {
	const unread = t.unread > 0 || t.unread === true;
	const a = el('a', {href: '#/threads/' + t.id + ui.key,
	    className: 'thread-link'},
	    el('span', {className: 'subject'}, t.subject || '(no subject)'),
	    el('span', {className: 'meta'},
	    el('span', {}, t.org ? (t.org.name || t.org.code) : ''),
	    el('span', {}, channelLabel(t.connector)),
	    el('span', {className: 'badge status-' + t.status},
	    statusLabel(t.status)),
	    t.severity && t.severity !== 'normal' ?
	    el('span', {className: 'badge sev-' + t.severity},
	    severityLabel(t.severity)) : null,
	    t.assignee ? el('span', {}, '→ ' + t.assignee.name) : null),
	    t.snippet ? el('span', {className: 'snippet'}, t.snippet) : null,
	    el('span', {className: 'when'}, time(t.last_at),
	    ' · ' + (t.messages === 1 ? '1 message' :
	    (t.messages || 0) + ' messages')));
	if (unread)
		a.append(el('span', {className: 'unread-dot'},
		    el('span', {className: 'visually-hidden'}, 'unread')));
	const li = el('li', {className: 'thread' + (unread ? ' unread' : ''),
	    dataset: {id: String(t.id)}}, a);
	li.title = ago(t.last_at) || '';
	return li;
}

function markOpen() {
	for (const li of ui.list.querySelectorAll('li.thread')) {
		const open = li.dataset.id === String(ui.openId);
		li.classList.toggle('current', open);
		const a = li.querySelector('a');
		if (open)
			a.setAttribute('aria-current', 'true');
		else
			a.removeAttribute('aria-current');
	}
}

// After the open thread was read or changed: its row and the counts.
function changed(t) {
	if (ui === null)
		return;
	const li = ui.list.querySelector('li.thread[data-id="' +
	    Number(t.id) + '"]');
	if (li)
		li.replaceWith(threadItem(t));
	markOpen();
	loadCounts();
}

function openThread(id) {
	ui.openId = id ? Number(id) : null;
	ui.root.classList.toggle('has-thread', ui.openId !== null);
	markOpen();
	if (ui.openId === null) {
		fill(ui.pane, el('p', {className: 'muted pick'},
		    'Pick a conversation to read it.'));
		thread.close();
		return;
	}
	thread.open(ui.pane, ui.openId, {back: '#/threads' + ui.key,
	    onChange: changed, me: session.user()});
}

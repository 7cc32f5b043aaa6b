// thread: one conversation: its messages in order, what staff may do
// with it (reply, status, assignee, severity, tags, hide) and who read it.

import * as api from '../api.js';
import {el, fill, field, select, extLink, statusArea, showError,
    showNote, clearStatus, time} from '../dom.js';
import {STATUSES, SEVERITIES, statusLabel, severityLabel, channelLabel,
    ratingText, replyModeText, replyStatusLabel} from '../format.js';

let cur = null;		// {pane, id, opts, gen}
let gen = 0;		// bumps on every open, so late answers are dropped
let usersCache = null;	// GET /users, for the assignee list

export function open(pane, id, opts) {
	if (cur && cur.pane === pane && cur.id === id && pane.isConnected &&
	    pane.dataset.thread === String(id)) {
		cur.opts = opts;
		return;
	}
	cur = {pane, id, opts, gen: ++gen};
	pane.dataset.thread = String(id);
	fill(pane, el('p', {className: 'muted'}, 'Loading the conversation…'));
	load(cur, true);
}

export function close() {
	if (cur)
		delete cur.pane.dataset.thread;
	cur = null;
	gen++;
}

export function reload() {
	if (cur)
		load(cur, false);
}

// Marks the thread read (first time only), then draws it.
async function load(c, markRead) {
	let t;
	try {
		if (markRead)
			await api.post('/threads/' + c.id + '/read');
		t = await api.get('/threads/' + c.id);
	} catch (e) {
		if (c.gen !== gen)
			return;
		const area = statusArea();
		fill(c.pane, backLink(c), area);
		showError(area, e);
		c.note = null;
		return;
	}
	if (c.gen !== gen)
		return;
	draw(c, t);
	// A newly opened conversation takes the focus, so keyboard and
	// screen-reader users start at its heading.
	if (markRead)
		c.pane.querySelector('#thread-subject')?.focus({
		    preventScroll: true});
	if (c.opts.onChange)
		c.opts.onChange({...t, unread: 0});
}

function backLink(c) {
	return el('a', {href: c.opts.back, className: 'back'},
	    '← All conversations');
}

function draw(c, t) {
	const can = t.can || {};
	// Each part that can write has its own place for errors and notes.
	c.areas = {top: statusArea(), manage: statusArea(),
	    reply: statusArea()};
	const parts = [
		backLink(c),
		head(t),
		t.status === 'hidden' ? hiddenNote(c, t) : null,
		c.areas.top,
		messages(t),
		replies(t),
		tasks(t),
		replyBox(c, t),
		can.write ? manage(c, t) : null,
		readBy(c, t),
	];
	const scroll = c.pane.scrollTop;
	fill(c.pane, el('article', {className: 'thread-view',
	    'aria-labelledby': 'thread-subject'}, parts));
	c.pane.scrollTop = scroll;
	if (c.note) {
		showNote(c.areas[c.note.where], c.note.text);
		c.note = null;
	}
}

function head(t) {
	const org = t.org ? (t.org.name || '') + ' (' + t.org.code + ')' : '';
	return el('header', {className: 'thread-head'},
	    el('h2', {id: 'thread-subject', tabindex: '-1'},
	    t.subject || '(no subject)'),
	    el('p', {className: 'meta'},
	    el('span', {className: 'badge status-' + t.status},
	    statusLabel(t.status)),
	    t.severity ? el('span', {className: 'badge sev-' + t.severity},
	    severityLabel(t.severity)) : null,
	    el('span', {}, 'Ref. ', el('strong', {className: 'ref'},
	    t.reference || String(t.id))),
	    t.channel_reference ? el('span', {}, channelLabel(t.connector) +
	    ' ref. ' + t.channel_reference) : null),
	    el('p', {className: 'meta'}, el('span', {}, org),
	    el('span', {}, channelLabel(t.connector)),
	    el('span', {}, t.assignee ? 'Assigned to ' + t.assignee.name :
	    'Not assigned')),
	    t.tags && t.tags.length ? el('ul', {className: 'tags',
	    'aria-label': 'Tags'}, t.tags.map((g) => el('li', {}, g))) : null);
}

// A write, then the thread drawn again from the server; errors and the
// note go to the area named where.
async function act(c, where, button, fn, note) {
	clearStatus(c.areas[where]);
	if (button)
		button.disabled = true;
	try {
		const r = await fn();
		if (c.gen !== gen)
			return;
		const text = typeof note === 'function' ? note(r) : note;
		c.note = text ? {where, text} : null;
		await load(c, false);
	} catch (e) {
		showError(c.areas[where], e);
		if (button)
			button.disabled = false;
	}
}

function hiddenNote(c, t) {
	const box = el('div', {className: 'notice hidden-note'},
	    el('p', {}, el('strong', {}, 'Hidden. '),
	    'Reason: ', t.hidden_reason || '(none given)'));
	if (t.can && t.can.write) {
		const b = el('button', {type: 'button', id: 'unhide'}, 'Unhide');
		b.addEventListener('click', () => act(c, 'top', b,
		    () => api.post('/threads/' + t.id + '/unhide'),
		    'The conversation is back in the inbox.'));
		box.append(b);
	}
	return box;
}

// Status, severity, assignee, tags and hiding, for those who may write.
function manage(c, t) {
	const path = '/threads/' + t.id;
	const st = select({name: 'status', id: 'set-status'},
	    STATUSES.filter(([k]) => k !== 'hidden'), t.status);
	const sev = select({name: 'severity', id: 'set-severity'},
	    SEVERITIES, t.severity || 'normal');
	const who = select({name: 'assignee', id: 'set-assignee'},
	    [['', 'Nobody']], t.assignee ? t.assignee.id : '');
	const tags = el('input', {type: 'text', name: 'tags', id: 'set-tags',
	    value: (t.tags || []).join(', ')});
	fillAssignees(who, t, c.opts.me);

	const row = (label, control, text, fn) => {
		const b = el('button', {type: 'button'}, text);
		b.addEventListener('click', () => act(c, 'manage', b, fn,
		    label.replace(/ \(.*\)$/, '') + ' saved.'));
		return el('div', {className: 'field inline-field'},
		    el('label', {htmlFor: control.id}, label),
		    el('div', {className: 'inline'}, control, b));
	};
	// A hidden conversation's status comes back with "Unhide".
	const parts = [
		t.status === 'hidden' ? null : row('Status', st, 'Set status',
		    () => api.post(path + '/status', {status: st.value})),
		row('Severity', sev, 'Set severity', () => api.post(path +
		    '/severity', {severity: sev.value})),
		row('Assignee', who, 'Assign', () => api.post(path + '/assign',
		    {user_id: who.value ? Number(who.value) : null})),
		row('Tags (comma between)', tags, 'Save tags', () => api.put(
		    path + '/tags', {tags: splitTags(tags.value)})),
	];
	if (t.status !== 'hidden')
		parts.push(hideForm(c, t));
	return el('section', {className: 'manage', 'aria-label': 'Manage'},
	    el('h3', {}, 'Manage'), c.areas.manage,
	    el('div', {className: 'manage-grid'}, parts));
}

function splitTags(s) {
	return [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))];
}

function hideForm(c, t) {
	const reason = el('input', {type: 'text', name: 'reason',
	    id: 'hide-reason', maxLength: 500});
	const b = el('button', {type: 'submit', className: 'danger'}, 'Hide');
	const form = el('form', {className: 'field inline-field hide-form'},
	    el('label', {htmlFor: reason.id},
	    'Hide as vexatious or abusive: the reason'),
	    el('div', {className: 'inline'}, reason, b));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (!reason.value.trim()) {
			showError(c.areas.manage,
			    'Say why the conversation is hidden.');
			reason.focus();
			return;
		}
		act(c, 'top', b, () => api.post('/threads/' + t.id + '/hide',
		    {reason: reason.value.trim()}),
		    'Hidden. It stays in the store and the audit log.');
	});
	return form;
}

// The people a conversation can be assigned to: GET /users (an admin
// gets everyone with their organisations; a lead the users of their own
// organisations, without them), less reviewers, who cannot act on it.
async function fillAssignees(sel, t, me) {
	const uid = me ? me.id : 0;
	try {
		if (usersCache === null || usersCache.uid !== uid)
			usersCache = {uid, list: (await api.get('/users')).items ||
			    []};
	} catch (e) {
		usersCache = null;
		if (t.assignee)
			sel.append(el('option', {value: t.assignee.id,
			    selected: true}, t.assignee.name));
		return;
	}
	const code = t.org && t.org.code;
	const inOrg = (u) => !u.orgs || u.role === 'admin' || u.orgs.some(
	    (o) => (typeof o === 'string' ? o : o.code) === code);
	const people = usersCache.list.filter((u) => (!u.disabled &&
	    u.role !== 'reviewer' && inOrg(u)) ||
	    (t.assignee && u.id === t.assignee.id));
	for (const u of people)
		sel.append(el('option', {value: u.id, selected: t.assignee &&
		    t.assignee.id === u.id}, u.name || u.email));
}

function messages(t) {
	const items = t.items || [];
	return el('section', {className: 'messages-wrap',
	    'aria-label': 'Messages'},
	    el('h3', {}, items.length === 1 ? '1 message' :
	    items.length + ' messages'),
	    el('ol', {className: 'messages'}, items.map((m) => message(t, m))));
}

function message(t, m) {
	const out = m.direction === 'out';
	const who = m.author || (out ? 'The organisation' : 'Anonymous');
	const rating = ratingText(m.rating);
	return el('li', {className: 'message ' + (out ? 'out' : 'in') +
	    (m.hidden ? ' is-hidden' : ''), dataset: {id: String(m.id)}},
	    el('header', {className: 'msg-head'},
	    el('span', {className: 'author'}, who),
	    m.author_handle ? el('span', {className: 'handle'},
	    m.author_handle) : null,
	    el('span', {className: 'channel'}, (out ? 'Reply on ' : 'On ') +
	    channelLabel(t.connector)),
	    rating ? el('span', {className: 'rating'}, rating) : null,
	    time(m.created_at),
	    m.url ? extLink(m.url, 'Original') : null),
	    m.hidden ? el('p', {className: 'notice'}, 'Hidden: ',
	    m.hidden_reason || '') : null,
	    m.title ? el('h4', {className: 'msg-title'}, m.title) : null,
	    el('p', {className: 'body'}, m.body || ''));
}

function replies(t) {
	const list = t.replies || [];
	if (!list.length)
		return null;
	return el('section', {className: 'replies', 'aria-label': 'Replies'},
	    el('h3', {}, 'Replies from heard'),
	    el('ul', {}, list.map((r) => el('li', {className: 'reply-item'},
	    el('p', {className: 'meta'},
	    el('span', {className: 'badge reply-' + r.status,
	    dataset: {status: r.status}}, replyStatusLabel(r.status)),
	    r.via ? el('span', {}, 'via ' + r.via) : null,
	    time(r.updated_at || r.created_at)),
	    el('p', {className: 'body'}, r.body || ''),
	    r.error ? el('p', {className: 'error-text'}, r.error) : null))));
}

function tasks(t) {
	const list = t.tasks || [];
	if (!list.length)
		return null;
	return el('section', {className: 'tasks', 'aria-label': 'Tasks'},
	    el('h3', {}, 'To post by hand'),
	    el('ul', {}, list.map(task)));
}

function task(k) {
	const text = el('textarea', {readOnly: true, rows: 4,
	    className: 'task-text'});
	text.value = k.text || '';
	const copy = el('button', {type: 'button'}, 'Copy text');
	const said = el('span', {className: 'muted', 'aria-live': 'polite'});
	copy.addEventListener('click', async () => {
		text.select();
		try {
			await navigator.clipboard.writeText(text.value);
			said.textContent = 'Copied.';
		} catch (e) {
			said.textContent = 'Selected: press Ctrl+C to copy.';
		}
	});
	return el('li', {className: 'task' + (k.closed_at ? ' done' : '')},
	    field(k.closed_at ? 'Posted (seen on the channel)' :
	    'Post this reply yourself', text),
	    el('p', {className: 'actions'}, copy,
	    k.url ? extLink(k.url, 'Open the page to post it') : null, said),
	    el('p', {className: 'meta'}, 'Created ', time(k.created_at),
	    k.closed_at ? [' · closed ', time(k.closed_at)] : null));
}

function replyBox(c, t) {
	const can = t.can || {};
	if (!can.reply)
		return el('p', {className: 'notice', id: 'no-reply'},
		    can.write ? replyModeText('none', t.connector) :
		    'You can read this conversation but not answer it.');
	if (t.reply_mode === 'none')
		return el('p', {className: 'notice', id: 'no-reply'},
		    replyModeText('none', t.connector));
	const body = el('textarea', {name: 'body', id: 'reply-body', rows: 5,
	    maxLength: 10000});
	const send = el('button', {type: 'submit', className: 'primary'},
	    t.reply_mode === 'api' ? 'Send reply' : 'Create task');
	const form = el('form', {className: 'reply-box', id: 'reply-form'},
	    el('h3', {}, 'Reply'),
	    el('p', {className: 'reply-mode', id: 'reply-mode',
	    dataset: {mode: t.reply_mode}},
	    replyModeText(t.reply_mode, t.connector)),
	    field('Your reply', body), c.areas.reply,
	    el('div', {className: 'actions'}, send));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (!body.value.trim()) {
			showError(c.areas.reply, 'Write the reply first.');
			body.focus();
			return;
		}
		act(c, 'reply', send, () => api.post('/threads/' + t.id +
		    '/replies', {body: body.value}), (r) => r && r.mode ===
		    'api' ? 'Reply queued: heard is posting it.' :
		    'Task created: copy the text above and post it on ' +
		    channelLabel(t.connector) + '.');
	});
	return form;
}

function readBy(c, t) {
	const list = t.read_by || [];
	const unread = el('button', {type: 'button', className: 'link',
	    id: 'mark-unread'}, 'Mark as unread');
	unread.addEventListener('click', async () => {
		try {
			await api.del('/threads/' + t.id + '/read');
			if (c.opts.onChange)
				c.opts.onChange({...t, unread: 1});
			location.hash = c.opts.back;
		} catch (e) {
			showError(c.areas.top, e);
		}
	});
	return el('section', {className: 'read-by', id: 'read-by',
	    'aria-label': 'Read by'},
	    el('h3', {}, 'Read by'),
	    list.length ? el('ul', {}, list.map((r) => el('li', {},
	    el('span', {className: 'reader'}, r.user ? r.user.name : '?'),
	    ' ', time(r.read_at)))) : el('p', {className: 'muted'},
	    'Nobody yet.'),
	    unread);
}

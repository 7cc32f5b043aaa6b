// signup: an admin links an organisation in one go (#/signup): search the
// ODS list, pick, tick the channels (settings prefilled), add leads,
// confirm; then the new sources' health and the way to their threads.

import * as api from '../api.js';
import {el, fill, field, statusArea, showError, showNote, clearStatus,
    time} from '../dom.js';
import {channelLabel, healthLabel} from '../format.js';
import {allSources} from './sources.js';

const REPLY = {
	api: 'heard posts replies',
	handoff: 'replies become "post this" tasks',
	none: 'read only',
};

let view = null;

export async function show(ctx) {
	const q = el('input', {type: 'search', id: 'org-search', name: 'q',
	    autocomplete: 'off', placeholder: 'e.g. Guy\'s or RJ1'});
	const results = el('ul', {className: 'org-results', id: 'org-results',
	    'aria-label': 'Matching organisations'});
	const status = statusArea();
	const picked = el('div', {id: 'org-picked'});
	view = {ctx, q, results, status, picked, seq: 0, timer: null,
	    watch: null};
	const form = el('form', {role: 'search', className: 'org-search'},
	    field('Organisation name or ODS code', q,
	    'Type at least two letters; pick from the NHS list.'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		search(view);
	});
	q.addEventListener('input', () => {
		clearTimeout(view.timer);
		view.timer = setTimeout(() => search(view), 250);
	});
	fill(ctx.main, el('div', {className: 'page'},
	    el('h1', {}, 'Sign up an organisation'),
	    el('section', {className: 'card'}, form, status, results), picked));
	const pre = ctx.query.get('org');
	if (pre) {
		q.value = pre;
		await pick(view, pre);
	} else {
		q.focus();
	}
}

export function leave() {
	if (view) {
		clearTimeout(view.timer);
		clearTimeout(view.watch);
	}
	view = null;
}

async function search(v) {
	const text = v.q.value.trim();
	const seq = ++v.seq;
	clearStatus(v.status);
	if (text.length < 2) {
		fill(v.results);
		return;
	}
	let r;
	try {
		r = await api.get('/organisations', {q: text});
	} catch (e) {
		showError(v.status, e);
		return;
	}
	if (seq !== v.seq || view !== v)
		return;
	const items = r.items || [];
	fill(v.results, items.map((o) => {
		const b = el('button', {type: 'button', className: 'org-pick',
		    dataset: {code: o.code}},
		    el('span', {className: 'org-name'}, o.name),
		    el('span', {className: 'meta'}, o.code,
		    o.type ? ' · ' + o.type : '',
		    o.postcode ? ' · ' + o.postcode : '',
		    o.open === false ? ' · closed' : ''));
		b.addEventListener('click', () => pick(v, o.code));
		return el('li', {}, b);
	}));
	if (!items.length)
		showNote(v.status, 'No organisation in the NHS list matches "' +
		    text + '".');
}

async function pick(v, code) {
	let org;
	clearStatus(v.status);
	try {
		org = await api.get('/organisations/' + encodeURIComponent(code));
	} catch (e) {
		showError(v.status, e);
		return;
	}
	if (view !== v)
		return;
	fill(v.results);
	fill(v.picked, plan(v, org));
	const h = v.picked.querySelector('h2');
	if (h)
		h.focus();
}

// One channel: a tick box, its reply mode, its settings as inputs.
function channelBox(ch, i) {
	const needs = ch.needs || [];
	const settings = ch.settings || {};
	const id = 'ch' + i;
	const tick = el('input', {type: 'checkbox', id, name: 'channel',
	    checked: needs.length === 0, dataset: {connector: ch.connector}});
	const inputs = [];
	const add = (key, value, needed) => {
		const input = el('input', {type: 'text', id: id + '-' + key,
		    name: key, value: value === undefined ? '' : String(value),
		    dataset: {key, needed: needed ? '1' : ''}});
		input.original = value;
		inputs.push(input);
		return field(key + (needed ? ' (needed)' : ''), input);
	};
	const rows = Object.entries(settings).map(([k, val]) =>
	    add(k, val, false));
	for (const k of needs)
		if (!(k in settings))
			rows.push(add(k, undefined, true));
	// An unticked channel folds its settings away, so the page stays
	// short for an organisation with many channels.
	const body = el('div', {className: 'channel-settings',
	    hidden: !tick.checked}, rows);
	tick.addEventListener('change', () => {
		body.hidden = !tick.checked;
		if (tick.checked)
			(inputs.find((i) => !i.value) || inputs[0])?.focus();
	});
	const box = el('fieldset', {className: 'channel',
	    dataset: {connector: ch.connector}},
	    el('legend', {}, el('label', {className: 'check'}, tick, ' ',
	    ch.title || channelLabel(ch.connector))),
	    el('p', {className: 'meta'}, ch.connector + ' · ' +
	    (REPLY[ch.reply] || ch.reply) +
	    (rows.length > needs.length ? ' · knows ' + Object.entries(
	    settings).map(([k, val]) => k + ' ' + val).join(', ') : '') +
	    (needs.length ? ' · needs ' + needs.join(', ') : '')),
	    body);
	return {box, tick, inputs, connector: ch.connector};
}

function plan(v, org) {
	const status = statusArea();
	const chans = (org.channels || []).map(channelBox);
	const leads = [];
	const leadList = el('ul', {className: 'leads', id: 'lead-list'});
	const leadInput = el('input', {type: 'email', id: 'lead-email',
	    autocomplete: 'off'});
	const addLead = el('button', {type: 'button', id: 'lead-add'},
	    'Add lead');
	const confirm = el('button', {type: 'submit', className: 'primary',
	    id: 'signup-confirm'}, 'Confirm sign-up');

	const drawLeads = () => fill(leadList, leads.map((m, i) => {
		const rm = el('button', {type: 'button', className: 'link'},
		    'Remove');
		rm.addEventListener('click', () => {
			leads.splice(i, 1);
			drawLeads();
		});
		return el('li', {}, el('span', {}, m), ' ', rm);
	}));
	const takeLead = () => {
		const m = leadInput.value.trim();
		if (!m)
			return true;
		if (!leadInput.checkValidity() || !m.includes('@')) {
			showError(status, '"' + m + '" is not an email address.');
			leadInput.focus();
			return false;
		}
		if (!leads.includes(m))
			leads.push(m);
		leadInput.value = '';
		drawLeads();
		return true;
	};
	addLead.addEventListener('click', () => {
		clearStatus(status);
		takeLead();
	});
	leadInput.addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter') {
			ev.preventDefault();
			takeLead();
		}
	});

	const form = el('form', {className: 'card signup', id: 'signup-form'},
	    el('h2', {tabindex: '-1'}, org.name, ' ',
	    el('span', {className: 'muted'}, org.code)),
	    existing(org),
	    el('h3', {}, 'Channels heard can link'),
	    chans.length ? chans.map((c) => c.box) :
	    el('p', {className: 'muted'}, 'heard knows no channel for it.'),
	    el('h3', {}, 'Leads to invite'),
	    el('p', {className: 'hint'}, 'Each gets a mail with a link to ' +
	    'choose a password; they can then answer for ' + org.name + '.'),
	    el('div', {className: 'field'},
	    el('label', {htmlFor: leadInput.id}, 'Email address'),
	    el('div', {className: 'inline'}, leadInput, addLead)),
	    leadList, status, el('div', {className: 'actions'}, confirm));

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearStatus(status);
		if (!takeLead())
			return;
		const sources = [];
		for (const c of chans) {
			if (!c.tick.checked)
				continue;
			const settings = {};
			for (const input of c.inputs) {
				const val = input.value.trim();
				if (!val && input.dataset.needed) {
					showError(status, (c.connector) + ' needs ' +
					    input.dataset.key + '.');
					input.focus();
					return;
				}
				if (!val)
					continue;
				settings[input.dataset.key] = input.original !==
				    undefined && String(input.original) === val ?
				    input.original : val;
			}
			sources.push({connector: c.connector, settings});
		}
		if (!sources.length && !leads.length) {
			showError(status, 'Tick a channel or add a lead first.');
			return;
		}
		confirm.disabled = true;
		try {
			const r = await api.post('/organisations/' +
			    encodeURIComponent(org.code) + '/signup',
			    {sources, leads});
			done(v, org, r);
		} catch (e) {
			showError(status, e);
			confirm.disabled = false;
		}
	});
	return form;
}

function existing(org) {
	const list = org.sources || [];
	if (!list.length)
		return el('p', {className: 'muted'}, 'No sources yet.');
	return el('div', {}, el('h3', {}, 'Already linked'),
	    el('ul', {}, list.map((s) => el('li', {},
	    channelLabel(s.connector) + ' (' + s.connector + ', source ' +
	    s.id + ')'))));
}

// After the sign-up: what was made, and the new sources' health until
// each has been polled once.
function done(v, org, r) {
	const ids = r.sources || [];
	const invited = r.invited || [];
	const health = el('ul', {className: 'new-sources', id: 'new-sources'});
	fill(v.picked, el('section', {className: 'card', id: 'signup-done'},
	    el('h2', {tabindex: '-1'}, org.name + ' is signed up'),
	    el('p', {role: 'status'}, ids.length === 1 ? '1 source created' :
	    ids.length + ' sources created', '; ', invited.length === 1 ?
	    '1 lead invited' : invited.length + ' leads invited', '.'),
	    health,
	    invited.length ? el('ul', {className: 'invited'},
	    invited.map((i) => el('li', {}, 'Invited ' + i.email))) : null,
	    el('p', {className: 'actions'},
	    el('a', {href: '#/threads?org=' + encodeURIComponent(org.code),
	    className: 'button', id: 'go-threads'}, 'Open their inbox'),
	    el('a', {href: '#/sources?org=' + encodeURIComponent(org.code),
	    className: 'button', id: 'go-sources'}, 'Sources\' health'))));
	v.picked.querySelector('h2').focus();
	watch(v, org.code, ids, health, 0);
}

async function watch(v, code, ids, list, round) {
	let all;
	try {
		all = await allSources(code);
	} catch (e) {
		showError(v.status, e);
		return;
	}
	if (view !== v)
		return;
	const mine = all.filter((s) => ids.includes(s.id));
	fill(list, mine.map((s) => el('li', {dataset: {id: String(s.id)}},
	    el('span', {className: 'badge health-' + s.health,
	    dataset: {health: s.health}}, healthLabel(s.health)),
	    ' ' + channelLabel(s.connector) + ' (source ' + s.id + ')',
	    s.last_ok ? [' · first poll ', time(s.last_ok)] : null,
	    s.last_error ? el('span', {className: 'error-text'}, ' · ' +
	    s.last_error) : null)));
	if (mine.some((s) => s.health === 'new') && round < 60)
		v.watch = setTimeout(() => watch(v, code, ids, list, round + 1),
		    1000);
}

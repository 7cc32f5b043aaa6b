// settings: the user's own mail choices per organisation (#/settings).

import * as api from '../api.js';
import * as session from '../session.js';
import {el, fill, select, statusArea, showError, showNote,
    clearStatus} from '../dom.js';
import {NOTIFY} from '../format.js';

export async function show(ctx) {
	const status = statusArea();
	const me = await session.load();
	if (me === null)
		return;
	const orgs = me.orgs || [];
	const rows = orgs.map((o, i) => {
		const sel = select({id: 'notify-' + i, name: 'notify',
		    dataset: {org: o.code}}, NOTIFY, o.notify);
		const save = el('button', {type: 'button'}, 'Save');
		save.addEventListener('click', async () => {
			clearStatus(status);
			save.disabled = true;
			try {
				await api.put('/me/notify', {org: o.code,
				    notify: sel.value});
				showNote(status, 'Saved: ' + o.name + '.');
			} catch (e) {
				showError(status, e);
			} finally {
				save.disabled = false;
			}
		});
		return el('li', {className: 'field'},
		    el('label', {htmlFor: sel.id}, (o.name || o.code) + ' (' +
		    o.code + ')'), el('div', {className: 'inline'}, sel, save));
	});
	fill(ctx.main, el('div', {className: 'page'},
	    el('h1', {}, 'Settings'),
	    el('section', {className: 'card'},
	    el('h2', {}, 'Your account'),
	    el('p', {}, (me.name || '') + ' <' + me.email + '>, ' + me.role)),
	    el('section', {className: 'card'},
	    el('h2', {}, 'Mail about new feedback'),
	    rows.length ? el('ul', {className: 'notify-list'}, rows) :
	    el('p', {className: 'muted'}, 'You belong to no organisation, ' +
	    'so heard sends you no mail about feedback.'),
	    status)));
}

// invite: accepting an invitation (#/invite/<token>): choose a password.

import * as api from '../api.js';
import {el, fill, field, statusArea, showError, clearStatus} from '../dom.js';

export async function show(ctx) {
	const token = ctx.params[0];
	const name = el('input', {type: 'text', name: 'name',
	    autocomplete: 'name'});
	const pw = el('input', {type: 'password', name: 'password',
	    required: true, autocomplete: 'new-password'});
	const pw2 = el('input', {type: 'password', name: 'password2',
	    required: true, autocomplete: 'new-password'});
	const button = el('button', {type: 'submit', className: 'primary'},
	    'Accept and log in');
	const status = statusArea();
	const form = el('form', {className: 'card narrow', id: 'invite-form'},
	    el('h1', {}, 'Join heard'),
	    el('p', {}, 'You have been invited to answer patients\' ' +
	    'feedback. Choose a password to start.'),
	    field('Your name (as colleagues will see it)', name,
	    'Leave empty to keep the name you were invited with.'),
	    field('Password', pw), field('Password again', pw2),
	    status, el('div', {className: 'actions'}, button));

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearStatus(status);
		if (pw.value !== pw2.value) {
			showError(status, 'The two passwords differ.');
			pw2.focus();
			return;
		}
		const body = {token, password: pw.value};
		if (name.value.trim())
			body.name = name.value.trim();
		button.disabled = true;
		try {
			const r = await api.call('POST', '/invitations/accept',
			    {body, quiet401: true});
			ctx.loggedIn(r.user, r.csrf);
		} catch (e) {
			showError(status, e);
		} finally {
			button.disabled = false;
		}
	});
	fill(ctx.main, form);
	name.focus();
}

// login: the log-in form (POST /login).

import * as api from '../api.js';
import {el, fill, field, statusArea, showError, clearStatus} from '../dom.js';

export async function show(ctx) {
	const email = el('input', {type: 'email', name: 'email', required: true,
	    autocomplete: 'username'});
	const password = el('input', {type: 'password', name: 'password',
	    required: true, autocomplete: 'current-password'});
	const button = el('button', {type: 'submit', className: 'primary'},
	    'Log in');
	const status = statusArea();
	const form = el('form', {className: 'card narrow', id: 'login-form'},
	    el('h1', {}, 'Log in to heard'),
	    field('Email', email), field('Password', password),
	    status, el('div', {className: 'actions'}, button));

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearStatus(status);
		button.disabled = true;
		try {
			const r = await api.call('POST', '/login', {body: {
			    email: email.value.trim(), password: password.value},
			    quiet401: true});
			ctx.loggedIn(r.user, r.csrf);
		} catch (e) {
			showError(status, e);
			password.select();
		} finally {
			button.disabled = false;
		}
	});
	fill(ctx.main, form);
	email.focus();
}

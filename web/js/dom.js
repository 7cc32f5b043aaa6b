// dom: builds elements from data; it only ever sets text, never HTML.
//
// el('p', {className: 'x', 'aria-live': 'polite'}, 'text', child) makes
// <p class="x" aria-live="polite">text<child></p>. Strings become text
// nodes, so whatever a patient wrote shows as the characters they typed.
// Attributes named on... are refused (handlers go through
// addEventListener), and href/src only take what safeHref allows.

const PROPS = new Set(['className', 'id', 'type', 'name', 'value',
	'checked', 'disabled', 'hidden', 'required', 'placeholder',
	'autocomplete', 'htmlFor', 'readOnly', 'rows', 'min', 'max',
	'maxLength', 'selected', 'multiple', 'title', 'inputMode']);

export function el(tag, props, ...children) {
	const node = document.createElement(tag);

	for (const [key, v] of Object.entries(props || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (/^on/i.test(key))
			throw new Error('dom: no inline handlers (' + key + ')');
		if (key === 'text')
			node.textContent = String(v);
		else if (key === 'href')
			setHref(node, v);
		else if (key === 'dataset')
			Object.assign(node.dataset, v);
		else if (PROPS.has(key))
			node[key] = v;
		else
			node.setAttribute(key, v === true ? '' : String(v));
	}
	append(node, children);
	return node;
}

// Appends strings as text nodes and elements as they are; skips null.
export function append(node, children) {
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		node.append(c instanceof Node ? c : document.createTextNode(
		    String(c)));
	}
	return node;
}

// Replaces every child of node.
export function fill(node, ...children) {
	node.replaceChildren();
	return append(node, children);
}

// An address a link may point to: our own #/ routes, or http(s) URLs.
// Anything else (javascript:, data:, vbscript:...) gives null.
export function safeHref(v) {
	const s = String(v).trim();

	if (s.startsWith('#/'))
		return s;
	try {
		const u = new URL(s);
		if (u.protocol === 'http:' || u.protocol === 'https:')
			return u.href;
	} catch (e) {
		// not an absolute URL: not a link
	}
	return null;
}

function setHref(node, v) {
	const href = safeHref(v);

	if (href === null)
		return;
	node.setAttribute('href', href);
	if (!href.startsWith('#')) {
		node.setAttribute('rel', 'noopener noreferrer');
		node.setAttribute('target', '_blank');
	}
}

// A link outside heard; its text is the URL itself unless given.
// An unsafe URL gives plain text instead of a link.
export function extLink(url, text) {
	if (!url)
		return null;
	if (safeHref(url) === null || String(url).trim().startsWith('#'))
		return el('span', {className: 'badurl'}, text || String(url));
	return el('a', {href: url}, text || String(url));
}

// <time> for an ISO 8601 instant, shown in the reader's time zone.
export function time(iso) {
	if (!iso)
		return el('span', {className: 'muted'}, 'never');
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return el('span', {}, String(iso));
	return el('time', {datetime: iso, title: d.toISOString()},
	    d.toLocaleString('en-GB', {dateStyle: 'medium',
	    timeStyle: 'short'}));
}

// A labelled control: <div class="field"><label>..</label>control</div>
let fieldSeq = 0;
export function field(labelText, control, hint) {
	if (!control.id)
		control.id = 'f' + (++fieldSeq);
	const parts = [el('label', {htmlFor: control.id}, labelText), control];
	if (hint) {
		const h = el('span', {className: 'hint', id: control.id + '-hint'},
		    hint);
		control.setAttribute('aria-describedby', h.id);
		parts.push(h);
	}
	return el('div', {className: 'field'}, parts);
}

// <select> with [value, label] options; value preselected.
export function select(props, options, value) {
	const s = el('select', props);
	for (const [v, label] of options)
		s.append(el('option', {value: v, selected: String(v) ===
		    String(value ?? '')}, label));
	return s;
}

// A region that reads out errors and notices (aria-live).
export function statusArea() {
	return el('p', {className: 'status', role: 'status',
	    'aria-live': 'polite'});
}

// Shows an error (an ApiError's detail, or any Error's message).
export function showError(area, err) {
	area.className = 'status error';
	area.setAttribute('role', 'alert');
	area.textContent = err && err.detail ? err.detail :
	    (err && err.message) || String(err);
}

export function showNote(area, text) {
	area.className = 'status note';
	area.setAttribute('role', 'status');
	area.textContent = text;
}

export function clearStatus(area) {
	area.className = 'status';
	area.textContent = '';
}

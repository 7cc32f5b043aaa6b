// The web inbox in a real headless Chromium (Debian's), driven by
// playwright-core against a real `heard serve` that stack.py starts.
//
//   node run.mjs [SCREENSHOT_DIR] [CASE...]
//
// Each case gets a fresh browser context, fails on any console error,
// page error or dialog, and leaves a screenshot in SCREENSHOT_DIR.
// Needs HEARD_BIN (and HEARD_SOURCE_DIR) as the integration tests do.

import {spawn} from 'node:child_process';
import {mkdirSync, readdirSync, rmSync} from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.resolve(process.argv[2] || path.join(HERE,
    'screenshots'));
const ONLY = process.argv.slice(3);
const WAIT = Number(process.env.BROWSER_WAIT_MS || 15000);
const DESKTOP = {width: 1280, height: 800};
const PHONE = {width: 375, height: 667};

// The 401 a logged-out page gets from GET /api/v1/me is how it learns
// that nobody is logged in; Chromium reports it as a console error.
const ALWAYS_ALLOWED = [{status: 401, path: '/api/v1/me'}];

class Stack {
	constructor() {
		this.proc = spawn('python3', [path.join(HERE, 'stack.py')],
		    {stdio: ['pipe', 'pipe', 'inherit']});
		this.lines = readline.createInterface({input: this.proc.stdout});
		this.waiting = [];
		this.queue = [];
		this.lines.on('line', (l) => {
			const w = this.waiting.shift();
			if (w)
				w.resolve(l);
			else
				this.queue.push(l);
		});
		this.exited = new Promise((resolve) => this.proc.on('exit',
		    (code) => {
			for (const w of this.waiting.splice(0))
				w.reject(new Error('stack.py exited (' + code +
				    ')'));
			resolve(code);
		}));
	}

	next() {
		if (this.queue.length)
			return Promise.resolve(this.queue.shift());
		return new Promise((resolve, reject) =>
		    this.waiting.push({resolve, reject}));
	}

	async start() {
		this.info = JSON.parse(await this.next());
		return this.info;
	}

	async ask(cmd) {
		this.proc.stdin.write(cmd + '\n');
		return JSON.parse(await this.next());
	}

	// Stops the stack; its exit status (0: heard stopped cleanly).
	async stop() {
		this.proc.stdin.end();
		const t = setTimeout(() => this.proc.kill('SIGTERM'), 30000);
		const code = await this.exited;
		clearTimeout(t);
		return code;
	}
}

function check(cond, what) {
	if (!cond)
		throw new Error(what);
}

// Polls fn until it returns something true, failing after ms.
async function until(fn, what, ms = WAIT) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > deadline)
			throw new Error('timed out waiting for ' + what);
		await new Promise((r) => setTimeout(r, 100));
	}
}

// Each role logs in through the form once; later cases reuse the
// session cookie, since a log-in costs a deliberate scrypt.
const sessions = new Map();

class Run {
	constructor(browser, stack, name, opts) {
		this.browser = browser;
		this.stack = stack;
		this.info = stack.info;
		this.name = name;
		this.opts = opts;
		this.problems = [];
		this.shots = 0;
	}

	async open() {
		this.ctx = await this.browser.newContext({
		    viewport: this.opts.viewport || DESKTOP,
		    isMobile: !!this.opts.mobile, hasTouch: !!this.opts.mobile,
		    locale: 'en-GB', timezoneId: 'Europe/London'});
		this.page = await this.ctx.newPage();
		this.page.setDefaultTimeout(WAIT);
		const allowed = ALWAYS_ALLOWED.concat(this.opts.allow || []);
		this.page.on('console', (m) => {
			if (m.type() !== 'error')
				return;
			const where = m.location().url || '';
			const hit = allowed.some((a) => where.includes(a.path) &&
			    m.text().includes('status of ' + a.status));
			if (!hit)
				this.problems.push('console error: ' + m.text() +
				    ' (' + where + ')');
		});
		this.page.on('pageerror', (e) => this.problems.push(
		    'page error: ' + e.message));
		this.page.on('dialog', (d) => {
			this.problems.push('a dialog opened: ' + d.type() + ' ' +
			    JSON.stringify(d.message()));
			d.dismiss().catch(() => {});
		});
		return this.page;
	}

	async shot(label) {
		const file = path.join(SHOTS, this.name + (label ? '-' + label :
		    '') + '.png');
		await this.page.screenshot({path: file, fullPage: false});
		this.shots++;
		return file;
	}

	async close() {
		await this.ctx.close();
	}

	url(hash) {
		return this.info.base + '/' + (hash || '');
	}

	async login(who, fresh = false) {
		const u = this.info.users[who];
		const p = this.page;
		if (sessions.has(who) && !fresh) {
			await this.ctx.addCookies(sessions.get(who));
			await p.goto(this.url('#/threads'));
			await p.waitForSelector('#thread-list li.thread');
			return u;
		}
		await p.goto(this.url('#/login'));
		await p.fill('#login-form input[name=email]', u.email);
		await p.fill('#login-form input[name=password]', u.password);
		await p.click('#login-form button[type=submit]');
		await p.waitForSelector('#thread-list li.thread');
		if (!fresh)
			sessions.set(who, await this.ctx.cookies());
		return u;
	}

	// Opens a thread from the list of the current page.
	async openThread(id) {
		const p = this.page;
		await p.click('#thread-list li.thread[data-id="' + id + '"] a');
		await p.waitForSelector('#thread-pane .thread-view');
		await p.waitForFunction((n) => location.hash.startsWith(
		    '#/threads/' + n), id);
	}

	async threadIds() {
		return this.page.$$eval('#thread-list li.thread',
		    (lis) => lis.map((li) => Number(li.dataset.id)));
	}

	// Every visible form control has a label a screen reader can read.
	async labelled(what) {
		const bare = await this.page.evaluate(() => [...document
		    .querySelectorAll('input, select, textarea')]
		    .filter((c) => c.offsetParent !== null &&
		    !(c.labels && c.labels.length) &&
		    !c.getAttribute('aria-label'))
		    .map((c) => c.tagName + '#' + c.id + '[' + c.name + ']'));
		check(bare.length === 0, what + ': controls without a label: ' +
		    bare.join(', '));
	}

	// No horizontal scrolling: the page is no wider than the screen.
	async noSideScroll(what) {
		const [sw, cw] = await this.page.evaluate(() => [
		    document.documentElement.scrollWidth,
		    document.documentElement.clientWidth]);
		check(sw <= cw, what + ': the page is ' + sw + 'px wide on a ' +
		    cw + 'px screen');
	}
}

const text = (p, sel) => p.$eval(sel, (e) => e.textContent);

const CASES = [];
const test = (name, opts, fn) => CASES.push({name, opts, fn});

test('login', {allow: [{status: 401, path: '/api/v1/login'}]}, async (r) => {
	const p = r.page;
	await p.goto(r.url());
	await p.waitForSelector('#login-form');
	check(p.url().endsWith('#/login'), 'a logged-out visit goes to ' +
	    '#/login, not ' + p.url());
	await r.labelled('the log-in form');
	await p.fill('#login-form input[name=email]',
	    r.info.users.lead.email);
	await p.fill('#login-form input[name=password]', 'not the password');
	await p.click('#login-form button[type=submit]');
	const err = await p.waitForSelector('#login-form .status.error');
	check((await err.textContent()).trim().length > 0,
	    'a refused log-in shows the API\'s detail');
	check(await err.getAttribute('role') === 'alert',
	    'the log-in error is announced (role=alert)');
	await r.shot('refused');
	await r.login('lead');
	check((await text(p, '#who-name')).includes('Lee Lead'),
	    'the header names the user');
	const ids = await r.threadIds();
	check(ids.length >= 4, 'the lead sees RJ1\'s ' +
	    'conversations, got ' + ids.length);
	await r.shot();
});

test('filter', {}, async (r) => {
	const p = r.page;
	await r.login('lead');
	const all = await r.threadIds();
	// unread counts per organisation and channel in the filter bar
	await p.waitForFunction(() => [...document.querySelectorAll(
	    '#filter-connector option')].some((o) => /unread of/.test(
	    o.textContent)));
	const orgOpt = await text(p, '#filter-org option[value="RJ1"]');
	check(/\d+ unread of \d+/.test(orgOpt), 'RJ1 shows its counts: ' +
	    orgOpt);
	await p.selectOption('#filter-connector', 'care-connect');
	await p.waitForFunction(() => location.hash.includes(
	    'connector=care-connect'));
	await until(async () => {
		const ids = await r.threadIds();
		return ids.length === 1 && ids[0] === r.info.threads.api;
	}, 'only the Care Connect conversation to be listed');
	await r.shot('channel');
	await p.selectOption('#filter-connector', '');
	await p.fill('#filter-q', 'wheelchair');
	await p.press('#filter-q', 'Enter');
	await until(async () => {
		const ids = await r.threadIds();
		return ids.length === 1 && ids[0] === r.info.threads.api;
	}, 'the text search to find the wheelchair post');
	await p.fill('#filter-q', '');
	await p.press('#filter-q', 'Enter');
	await until(async () => (await r.threadIds()).length === all.length,
	    'every conversation back without filters');
	// unread only: as many as the organisation's count says
	const unread = Number(/(\d+) unread of/.exec(await text(p,
	    '#filter-org option[value="RJ1"]'))[1]);
	await p.check('#filter-unread');
	await until(async () => {
		const rows = await p.$$eval('#thread-list li.thread',
		    (lis) => lis.map((li) => li.classList.contains('unread')));
		return rows.length === unread && rows.every(Boolean);
	}, unread + ' unread conversations listed');
	await p.uncheck('#filter-unread');
	await p.selectOption('#filter-org', 'RJ1');
	await until(async () => (await r.threadIds()).length === all.length,
	    'the lead\'s one organisation to list them all');
	await r.shot();
});

test('read-by', {}, async (r) => {
	const p = r.page;
	await r.login('lead');
	const id = r.info.threads.kind;
	// by keyboard: the link takes Enter, and the heading takes the focus
	await p.focus('#thread-list li.thread[data-id="' + id + '"] a');
	await p.keyboard.press('Enter');
	await p.waitForSelector('#thread-pane .thread-view');
	await p.waitForFunction(() =>
	    document.activeElement?.id === 'thread-subject');
	await p.waitForFunction(() => document.querySelector('#read-by')
	    ?.textContent.includes('Lee Lead'));
	const body = await text(p, '#thread-pane .message .body');
	check(body.includes('The nurses on ward 7 were kind and quick.'),
	    'the message shows: ' + body);
	const link = await p.$('#thread-pane .message a');
	check(await link.getAttribute('href') ===
	    'https://example.org/stories/kind', 'the link to the original');
	check(await link.getAttribute('rel') === 'noopener noreferrer',
	    'the original opens with rel=noopener noreferrer');
	const row = await p.$('#thread-list li.thread[data-id="' + id + '"]');
	check(!(await row.getAttribute('class')).includes('unread'),
	    'the opened conversation is no longer unread in the list');
	await r.shot();
	await p.click('#mark-unread');
	await p.waitForFunction(() => location.hash.startsWith('#/threads') &&
	    !/^#\/threads\/\d/.test(location.hash));
	await p.waitForFunction((n) => document.querySelector(
	    '#thread-list li.thread[data-id="' + n + '"]')?.classList
	    .contains('unread'), id);
});

test('reply', {}, async (r) => {
	const p = r.page;
	await r.login('lead');
	// Care Connect: heard posts the reply (Open311 request update)
	await r.openThread(r.info.threads.api);
	const mode = await text(p, '#reply-mode');
	check(mode.includes('heard will post'), 'the api reply mode is ' +
	    'said before sending: ' + mode);
	const said = 'Thank you. The outpatients team now keeps a ' +
	    'wheelchair at the door.';
	await p.fill('#reply-body', said);
	await p.click('#reply-form button[type=submit]');
	await p.waitForFunction((s) => [...document.querySelectorAll(
	    '.reply-item .body')].some((b) => b.textContent === s), said);
	check((await text(p, '#reply-form .status')).includes('queued'),
	    'the reply says it was queued');
	await until(async () => (await r.stack.ask('open311_posts')).posts
	    .some((f) => f.description === said),
	    'the fake Open311 server to receive the reply');
	await until(async () => {
		await p.click('#refresh');
		await p.waitForTimeout(200);
		return p.$('.reply-item [data-status="posted"]');
	}, 'the reply to show as posted');
	await r.shot('posted');
	// Care Opinion: the reply becomes a "post this" task
	await r.openThread(r.info.threads.handoff);
	const mode2 = await text(p, '#reply-mode');
	check(mode2.includes('"post this" task'), 'the handoff mode is said ' +
	    'before sending: ' + mode2);
	const said2 = 'We are sorry the letter went astray; please call ' +
	    'the booking line and quote your reference.';
	await p.fill('#reply-body', said2);
	await p.click('#reply-form button[type=submit]');
	const task = await p.waitForSelector('.task textarea');
	check(await task.inputValue() === said2, 'the task has the reply ' +
	    'ready to copy');
	const link = await p.$('.task a');
	check(link && /^https?:/.test(await link.getAttribute('href')),
	    'the task links to the page where it is posted');
	await r.ctx.grantPermissions(['clipboard-read', 'clipboard-write'],
	    {origin: r.info.base});
	await p.click('.task button:text("Copy text")');
	await p.waitForSelector('.task :text("Copied.")');
	check(await p.evaluate(() => navigator.clipboard.readText()) === said2,
	    '"Copy text" puts the reply on the clipboard');
	await r.shot('task');
});

test('status', {}, async (r) => {
	const p = r.page;
	await r.login('lead');
	const id = r.info.threads.kind;
	await r.openThread(id);
	await p.selectOption('#set-status', 'in_progress');
	await p.click('#set-status + button');
	await p.waitForFunction(() => document.querySelector(
	    '.thread-head .badge')?.textContent === 'In progress');
	await p.waitForFunction((n) => document.querySelector(
	    '#thread-list li.thread[data-id="' + n + '"] .badge')
	    ?.textContent === 'In progress', id);
	// severity, assignee and tags, each saved and shown
	await p.selectOption('#set-severity', 'high');
	await p.click('#set-severity + button');
	await p.waitForFunction(() => [...document.querySelectorAll(
	    '.thread-head .badge')].some((b) => b.textContent === 'High'));
	await p.selectOption('#set-assignee', {label: 'Lee Lead'});
	await p.click('#set-assignee + button');
	await p.waitForFunction(() => document.querySelector('.thread-head')
	    ?.textContent.includes('Assigned to Lee Lead'));
	await p.fill('#set-tags', 'nursing, praise');
	await p.click('#set-tags + button');
	await r.labelled('the inbox and a conversation');
	await p.waitForFunction(() => [...document.querySelectorAll(
	    '.thread-head .tags li')].map((l) => l.textContent).join() ===
	    'nursing,praise');
	await r.shot();
	// and the filters find it by each
	for (const [sel, how] of [['#filter-status', 'in_progress'],
	    ['#filter-severity', 'high']]) {
		await p.goto(r.url('#/threads'));
		await p.waitForSelector('#thread-list li.thread');
		await p.selectOption(sel, how);
		await until(async () => {
			const ids = await r.threadIds();
			return ids.length === 1 && ids[0] === id;
		}, sel + '=' + how + ' to list it alone');
	}
	await p.goto(r.url('#/threads'));
	await p.waitForSelector('#thread-list li.thread');
	await p.check('#filter-assigned');
	await until(async () => {
		const ids = await r.threadIds();
		return ids.length === 1 && ids[0] === id;
	}, '"Assigned to me" to list it alone');
	await r.shot('filtered');
});

test('hostile', {}, async (r) => {
	const p = r.page;
	const h = r.info.threads;
	await r.login('lead');
	await r.openThread(h.hostile);
	const found = await p.evaluate(() => {
		const on = [];
		for (const e of document.querySelectorAll('*'))
			for (const a of e.attributes)
				if (/^on/i.test(a.name))
					on.push(e.tagName + '[' + a.name + ']');
		return {on, imgs: document.querySelectorAll('img').length,
		    scripts: [...document.scripts].map((s) =>
		    s.getAttribute('src')),
		    js: [...document.querySelectorAll('a[href]')].filter((a) =>
		    !/^(https?:|#)/.test(a.getAttribute('href'))).length};
	});
	check(found.on.length === 0, 'no element has an on... attribute: ' +
	    found.on.join(', '));
	check(found.imgs === 0, 'the post made no <img> element');
	check(found.scripts.length === 1 && found.scripts[0] ===
	    'js/main.js', 'no script but ours: ' + found.scripts);
	check(found.js === 0, 'no link other than http(s) or our own routes');
	check(await text(p, '#thread-subject') === h.hostile_subject,
	    'the subject is shown as the characters stored');
	check(await text(p, '#thread-pane .message .body') === h.hostile_body,
	    'the body is shown as the characters stored');
	const row = await text(p, '#thread-list li.thread[data-id="' +
	    h.hostile + '"] .subject');
	check(row === h.hostile_subject, 'the list shows the subject as text');
	await p.getByText('<script>alert(1)</script>', {exact: false})
	    .first().waitFor({state: 'visible'});
	await r.shot();
});

test('hide', {}, async (r) => {
	const p = r.page;
	const id = r.info.threads.hostile;
	await r.login('lead');
	await r.openThread(id);
	await p.click('.hide-form button');
	check((await text(p, '.manage .status')).includes('Say why'),
	    'hiding without a reason is refused with a reason');
	const why = 'Abusive, names a member of staff';
	await p.fill('#hide-reason', why);
	await p.click('.hide-form button');
	await p.waitForSelector('.hidden-note');
	check((await text(p, '.hidden-note')).includes(why),
	    'the hidden note gives the reason');
	await r.shot();
	await p.click('#refresh');
	await until(async () => !(await r.threadIds()).includes(id),
	    'the hidden conversation to leave the inbox');
	await p.selectOption('#filter-status', 'hidden');
	await until(async () => (await r.threadIds()).includes(id),
	    'the hidden filter to list it');
	await r.openThread(id);
	await p.click('#unhide');
	await p.waitForFunction(() => !document.querySelector('.hidden-note')
	    && document.querySelector('.thread-head .badge')?.textContent !==
	    'Hidden');
	await r.shot('unhidden');
});

test('reviewer', {}, async (r) => {
	const p = r.page;
	await r.login('reviewer');
	check(await p.isHidden('[data-nav="signup"]'),
	    'a reviewer has no sign-up in the menu');
	await p.goto(r.url('#/signup'));
	await p.waitForFunction(() => location.hash === '#/threads');
	check((await text(p, '#flash')).includes('Only an admin'),
	    'and is told so when they type its address');
	await r.openThread(r.info.threads.kind);
	await p.waitForFunction(() => document.querySelector('#read-by')
	    ?.textContent.includes('Rita Reviewer'));
	check((await text(p, '#no-reply')).includes('not answer'),
	    'the reviewer is told they cannot answer');
	for (const sel of ['#reply-form', '#reply-body', '.manage',
	    '#set-status', '#hide-reason', '#unhide'])
		check(await p.$(sel) === null, 'a reviewer has no ' + sel);
	await r.shot();
});

test('guess', {allow: [{status: 404, path: '/api/v1/threads/'}]},
    async (r) => {
	const p = r.page;
	await r.login('lead');
	const other = r.info.threads.other;
	check(!(await r.threadIds()).includes(other),
	    'another trust\'s conversation is not listed');
	await p.goto(r.url('#/threads/' + other));
	const err = await p.waitForSelector('#thread-pane .status.error');
	check((await err.textContent()).trim().length > 0,
	    'a guessed id gets the API\'s "not found"');
	check(await p.$('#thread-pane .thread-view') === null,
	    'and shows nothing of it');
	await r.shot();
});

test('signup', {allow: [{status: 422, path: '/signup'}]},
    async (r) => {
	const p = r.page;
	const s = r.info.signup;
	await r.login('admin');
	await p.click('[data-nav="signup"]');
	await p.fill('#org-search', s.query);
	await p.click('.org-pick[data-code="' + s.org + '"]');
	await p.waitForSelector('#signup-form');
	await r.shot('channels');
	for (const box of await p.$$('#signup-form fieldset.channel input' +
	    '[name=channel]'))
		await box.uncheck();
	const feed = 'fieldset.channel[data-connector="rss"]';
	check(await p.isHidden(feed + ' input[data-key="url"]'),
	    'an unticked channel folds its settings away');
	await p.check(feed + ' input[name=channel]');
	await r.labelled('the sign-up form');
	await p.fill(feed + ' input[data-key="url"]', 'not a feed address');
	await p.fill('#lead-email', s.lead);
	await p.click('#lead-add');
	// the API's refusal, in its own words, and nothing made
	await p.click('#signup-confirm');
	const err = await p.waitForSelector('#signup-form .status.error');
	check((await err.textContent()).includes('url'),
	    'the API\'s detail names the bad setting: ' +
	    await err.textContent());
	await r.shot('refused');
	await p.fill(feed + ' input[data-key="url"]', s.feed);
	await p.click('#signup-confirm');
	await p.waitForSelector('#signup-done');
	await p.waitForSelector('#new-sources .badge[data-health="ok"]',
	    {timeout: 30000});
	await r.shot('done');
	await p.click('#go-threads');
	await until(async () => {
		await p.click('#refresh');
		await p.waitForTimeout(200);
		return p.$('#thread-list li.thread .subject >> text="' +
		    s.subject + '"');
	}, 'the first polled conversation in the new inbox');
	await p.click('#thread-list li.thread a');
	await p.waitForSelector('#thread-pane .thread-view');
	await r.shot();
});

test('invite', {}, async (r) => {
	const p = r.page;
	const s = r.info.signup;
	const got = await r.stack.ask('invite ' + s.lead);
	check(got.link, 'the sign-up mailed the lead an invitation: ' +
	    JSON.stringify(got));
	check(got.link.startsWith(r.info.base + '/#/invite/'),
	    'the invitation links to this inbox: ' + got.link);
	await p.goto(got.link);
	await p.waitForSelector('#invite-form');
	await r.labelled('the invitation form');
	await p.fill('#invite-form input[name=name]', 'Pat Pals');
	await p.fill('#invite-form input[name=password]', 'a long new password 1');
	await p.fill('#invite-form input[name=password2]', 'a long new password');
	await p.click('#invite-form button[type=submit]');
	check((await text(p, '#invite-form .status')).includes('differ'),
	    'two different passwords are refused before sending');
	await p.fill('#invite-form input[name=password2]',
	    'a long new password 1');
	await p.click('#invite-form button[type=submit]');
	await p.waitForSelector('#thread-list li.thread');
	check((await text(p, '#who-name')).includes('Pat Pals'),
	    'the new lead is logged in under the name they chose');
	const subjects = await p.$$eval('#thread-list .subject',
	    (e) => e.map((x) => x.textContent));
	check(subjects.length === 1 && subjects[0] === s.subject,
	    'the new lead sees their organisation\'s conversation only: ' +
	    subjects);
	await r.shot();
});

test('more', {}, async (r) => {
	const p = r.page;
	const m = r.info.many;
	await r.login('admin');
	await p.goto(r.url('#/threads?org=' + m.org));
	await until(async () => (await r.threadIds()).length === 50,
	    'the first page of 50');
	check(await p.isVisible('button.more'), '"Load more" is offered');
	await p.click('button.more');
	await until(async () => (await r.threadIds()).length === m.count,
	    'all ' + m.count + ' after "Load more"');
	const ids = await r.threadIds();
	check(new Set(ids).size === ids.length, 'no conversation twice');
	check(await p.isHidden('button.more'), 'nothing more to load');
	await r.shot();
});

test('sources', {}, async (r) => {
	const p = r.page;
	await r.login('admin');
	await p.click('[data-nav="sources"]');
	await p.waitForSelector('#source-list li.source');
	const cards = await p.$$eval('#source-list li.source', (lis) =>
	    lis.map((li) => li.textContent));
	check(cards.length >= 5, 'every source is listed');
	check(cards.every((c) => c.includes('Last success') &&
	    c.includes('Next poll')), 'each shows its health');
	const rjz = cards.filter((c) => c.includes(r.info.signup.org));
	check(rjz.length === 1, 'the refused sign-up made no source: ' +
	    rjz.length + ' for ' + r.info.signup.org);
	const bad = '#source-list li.source.is-failing';
	check((await text(p, bad)).includes('503'),
	    'the failing source shows its last error');
	await r.shot();
	// pause and resume one, and poll it now
	const first = '#source-list li.source:first-child';
	await p.click(first + ' button:text("Pause")');
	await p.waitForFunction((s) => document.querySelector(s + ' .badge')
	    ?.textContent === 'Paused', first);
	await p.click(first + ' button:text("Resume")');
	await p.waitForFunction((s) => document.querySelector(s + ' .badge')
	    ?.textContent !== 'Paused', first);
	await p.click(first + ' button.poll-now');
	await p.waitForSelector(first + ' .status.note');
	await r.shot('actions');
});

test('settings', {}, async (r) => {
	const p = r.page;
	await r.login('lead');
	await p.click('[data-nav="settings"]');
	const sel = '.notify-list select[data-org="RJ1"]';
	await p.waitForSelector(sel);
	await r.labelled('the settings');
	await p.selectOption(sel, 'digest');
	await p.click('.notify-list li button');
	await p.waitForSelector('.status.note');
	await p.reload();
	await p.waitForSelector(sel);
	check(await p.$eval(sel, (s) => s.value) === 'digest',
	    'the choice is kept');
	await r.shot();
});

test('phone', {viewport: PHONE, mobile: true}, async (r) => {
	const p = r.page;
	await r.login('lead');
	await r.noSideScroll('the inbox');
	check(await p.isHidden('#filter-connector'), 'the lists of filters ' +
	    'fold away on a phone');
	await r.shot('inbox');
	await p.click('#filters-toggle');
	await p.selectOption('#filter-connector', 'care-connect');
	await until(async () => {
		const ids = await r.threadIds();
		return ids.length === 1 && ids[0] === r.info.threads.api;
	}, 'the channel filter on a phone');
	check(await p.isVisible('#filter-connector'), 'a filter in use stays ' +
	    'in sight');
	await r.shot('filtered');
	await r.openThread(r.info.threads.api);
	check(await p.isHidden('.list-pane'), 'an open thread takes the screen');
	check(await p.isVisible('#thread-pane .back'), 'with a way back');
	await r.noSideScroll('a thread');
	await r.shot('thread');
	await p.click('#thread-pane .back');
	await p.waitForSelector('.list-pane', {state: 'visible'});
	await r.noSideScroll('the inbox again');
});

test('logout', {allow: [{status: 401, path: '/api/v1/threads'}]},
    async (r) => {
	const p = r.page;
	const u = await r.login('lead', true);
	const id = r.info.threads.kind;
	await r.openThread(id);
	// the session ends under the page: back to the log-in, then to
	// the same conversation
	await r.ctx.clearCookies();
	await p.click('#refresh');
	await p.waitForSelector('#login-form');
	check((await text(p, '#flash')).includes('session has ended'),
	    'the user is told why they must log in again');
	await p.fill('#login-form input[name=email]', u.email);
	await p.fill('#login-form input[name=password]', u.password);
	await p.click('#login-form button[type=submit]');
	await p.waitForFunction((n) => location.hash.startsWith('#/threads/' +
	    n), id);
	await p.waitForSelector('#thread-pane .thread-view');
	await p.click('#logout');
	await p.waitForSelector('#login-form');
	check(await p.isHidden('#nav'), 'no menu once logged out');
	await p.goto(r.url('#/threads'));
	await p.waitForSelector('#login-form');
	check(p.url().endsWith('#/login'), 'the inbox asks for a log-in again');
	await r.shot();
});

async function main() {
	mkdirSync(SHOTS, {recursive: true});
	for (const f of readdirSync(SHOTS))
		if (f.endsWith('.png'))
			rmSync(path.join(SHOTS, f));
	const started = Date.now();
	const stack = new Stack();
	let failed = 0;
	let passed = 0;
	let browser = null;
	try {
		await stack.start();
		console.log('# heard is up after ' + ((Date.now() - started) /
		    1000).toFixed(1) + ' s');
		browser = await chromium.launch({
		    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		    args: ['--headless=new', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync']});
		for (const c of CASES) {
			if (ONLY.length && !ONLY.includes(c.name))
				continue;
			const r = new Run(browser, stack, c.name, c.opts);
			const t0 = Date.now();
			let error = null;
			try {
				await r.open();
				await c.fn(r);
			} catch (e) {
				error = e;
			}
			if (!error && r.problems.length)
				error = new Error(r.problems.join('; '));
			if (error) {
				await r.shot('failed').catch(() => {});
				failed++;
				console.log('not ok - ' + c.name + ': ' +
				    (error.stack || error));
				if (r.problems.length)
					console.log('  also: ' + r.problems.join('\n  '));
			} else {
				passed++;
				console.log('ok - ' + c.name + ' (' +
				    ((Date.now() - t0) / 1000).toFixed(1) + ' s)');
			}
			await r.close().catch(() => {});
		}
		if (failed) {
			const log = (await stack.ask('log')).log;
			console.log('--- heard log (tail) ---\n' + log.slice(-4000));
		}
	} catch (e) {
		failed++;
		console.log('not ok - setup: ' + (e.stack || e));
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		const code = await stack.stop();
		if (code !== 0) {
			failed++;
			console.log('not ok - shutdown: stack.py exited with ' +
			    code + ' (see its message above)');
		}
	}
	console.log('screenshots in ' + SHOTS + '; ' +
	    ((Date.now() - started) / 1000).toFixed(1) + ' s');
	console.log(passed + ' passed, ' + failed + ' failed');
	process.exit(failed ? 1 : 0);
}

main();

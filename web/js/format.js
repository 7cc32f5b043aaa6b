// format: the words the inbox uses for statuses, channels and the like.

export const STATUSES = [
	['new', 'New'], ['open', 'Open'], ['in_progress', 'In progress'],
	['resolved', 'Resolved'], ['closed', 'Closed'], ['hidden', 'Hidden'],
];

export const SEVERITIES = [
	['low', 'Low'], ['normal', 'Normal'], ['high', 'High'],
	['urgent', 'Urgent'],
];

export const NOTIFY = [
	['conversation', 'A mail for each new conversation'],
	['message', 'A mail for every new message'],
	['digest', 'A daily digest'],
	['none', 'No mail'],
];

// A source's health, in the order that needs someone first.
export const HEALTH = {
	failing: 'Failing',
	paused: 'Paused',
	new: 'Not polled yet',
	ok: 'Working',
};

export const healthLabel = (h) => HEALTH[h] || String(h ?? '');

const REPLY_STATUS = {
	queued: 'Queued',
	posting: 'Posting',
	posted: 'Posted on the channel',
	failed: 'Failed',
	handoff: 'Task: post it by hand',
	unknown: 'Unknown: check the channel',
	cancelled: 'Cancelled',
};

export const replyStatusLabel = (s) => REPLY_STATUS[s] || String(s ?? '');

const CHANNELS = {
	'rss': 'Feed',
	'nhs-choices': 'NHS Choices',
	'nhs-website': 'NHS website',
	'care-opinion': 'Care Opinion',
	'care-connect': 'Care Connect',
	'twitter': 'X',
	'facebook': 'Facebook',
	'mastodon': 'Mastodon',
	'custom': 'Custom',
};

function label(list, v) {
	const hit = list.find(([k]) => k === v);
	return hit ? hit[1] : String(v ?? '');
}

export const statusLabel = (s) => label(STATUSES, s);
export const severityLabel = (s) => label(SEVERITIES, s);
export const channelLabel = (c) => CHANNELS[c] || String(c ?? '');

// "3 of 5 stars" for a rating; ratings come as numbers (1 to 5).
export function ratingText(r) {
	if (r === null || r === undefined || r === '')
		return null;
	const n = Number(r);
	if (!Number.isFinite(n))
		return 'Rating: ' + String(r);
	return 'Rated ' + n + ' of 5';
}

// What happens to a reply on this thread, said before it is sent.
export function replyModeText(mode, channel) {
	const where = channelLabel(channel);
	if (mode === 'api')
		return 'heard will post your reply on ' + where +
		    ', where the patient wrote.';
	if (mode === 'handoff')
		return where + ' does not let heard post replies: your ' +
		    'reply becomes a "post this" task, with the text ready ' +
		    'to copy and a link to the page where you post it. ' +
		    'heard closes the task when it sees your reply there.';
	return where + ' takes no replies, so this conversation cannot be ' +
	    'answered from heard.';
}

// "2 minutes ago"-style age, or null for nothing.
export function ago(iso, now = Date.now()) {
	if (!iso)
		return null;
	const s = Math.round((now - new Date(iso).getTime()) / 1000);
	if (!Number.isFinite(s))
		return null;
	const fut = s < 0;
	const a = Math.abs(s);
	const units = [[86400, 'day'], [3600, 'hour'], [60, 'minute'],
	    [1, 'second']];
	for (const [n, u] of units) {
		if (a >= n || n === 1) {
			const k = Math.floor(a / n);
			const w = k + ' ' + u + (k === 1 ? '' : 's');
			return fut ? 'in ' + w : w + ' ago';
		}
	}
	return null;
}

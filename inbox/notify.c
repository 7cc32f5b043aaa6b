/* notify: who hears of what, and the mails that tell them. */
#include "notify.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "mail_compose.h"
#include "reply_token.h"
#include "store.h"
#include "xmalloc.h"

/* Outbox rows looked at per kind of work in one notify_compose. */
#define NOTIFY_BATCH		200
/* Bytes of a patient's words quoted in a mail; the rest is in heard. */
#define NOTIFY_QUOTE_MAX	4000
/* Conversations listed in one digest; it counts the others. */
#define NOTIFY_DIGEST_MAX	100
/* Bytes of one digest line's excerpt. */
#define NOTIFY_EXCERPT_MAX	160
/* Mails kept in a thread's References: the first and the latest. */
#define NOTIFY_CHAIN_MAX	20
#define NOTIFY_HOUR		3600
#define NOTIFY_DAY		86400

/* One notify_compose (or one direct mail) at work. */
struct notify_ctx {
	struct store			*s;	/* borrowed */
	const struct notify_opts	*o;	/* borrowed */
	int64_t				 now;
	char				*err;	/* borrowed: the caller's */
	size_t				 errlen;
	char				 domain[256];	/* of the ids */
	int64_t				 digest_at;	/* today's hour */
	char				 chan[96];	/* notify_channel's */
};

/* A mail to be stored; every pointer borrowed. */
struct notify_mail {
	const char	*kind;		/* mails.kind */
	int64_t		 user_id;	/* 0: none */
	int64_t		 thread_id;	/* 0: none */
	const char	*rcpt;
	const char	*rcpt_name;	/* NULL or "": none */
	const char	*subject;
	const char	*text;
	const char	*html;
	int		 reply_token;	/* Reply-To names thread and user */
	int		 threaded;	/* In-Reply-To/References: the
					   thread's earlier mails to the user */
	const char	*in_reply_to;	/* when not threaded; NULL: none */
	int		 unsubscribe;	/* List-Unsubscribe: the settings */
};

static const char notify_sql_next_id[] =
    "SELECT coalesce(max(id), 0) + 1 FROM mails";
static const char notify_sql_chain_first[] =
    "SELECT message_id FROM mails WHERE thread_id = ?1 AND user_id = ?2"
    " ORDER BY id LIMIT 1";
static const char notify_sql_chain_last[] =
    "SELECT message_id FROM mails WHERE thread_id = ?1 AND user_id = ?2"
    " ORDER BY id DESC LIMIT ?3";
static const char notify_sql_mail_insert[] =
    "INSERT INTO mails (id, kind, user_id, thread_id, rcpt, message_id,"
    " subject, body, next_attempt_at, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
static const char notify_sql_sent_hour[] =
    "SELECT count(*) FROM mails WHERE user_id = ?1 AND created_at > ?2"
    " AND kind = 'notification'";
static const char notify_sql_pending[] =
    "SELECT id FROM notification_outbox WHERE state = 'pending'"
    " AND kind IN ('new_thread', 'new_message') ORDER BY id LIMIT ?1";
static const char notify_sql_event[] =
    "SELECT n.state, n.kind, n.user_id, u.email, u.name, u.role,"
    " u.disabled, (SELECT notify FROM memberships"
    "  WHERE user_id = n.user_id AND org_id = n.org_id),"
    " t.id, t.reference, t.status, t.connector, o.code, o.name,"
    " m.author_name, m.title, m.body, m.url, m.rating, m.hidden,"
    " m.created_at"
    " FROM notification_outbox n JOIN users u ON u.id = n.user_id"
    " JOIN threads t ON t.id = n.thread_id"
    " JOIN organisations o ON o.id = t.org_id"
    " JOIN messages m ON m.id = n.message_id WHERE n.id = ?1";
static const char notify_sql_row_state[] =
    "UPDATE notification_outbox SET state = ?2, mail_id = ?3"
    " WHERE id = ?1 AND state = ?4";
static const char notify_sql_backfill_orphans[] =
    "UPDATE notification_outbox SET state = 'dropped'"
    " WHERE state = 'pending' AND kind = 'backfill' AND source_id IS NULL";
static const char notify_sql_backfill_due[] =
    "SELECT n.id FROM notification_outbox n"
    " JOIN sources s ON s.id = n.source_id"
    " WHERE n.state = 'pending' AND n.kind = 'backfill'"
    " AND s.backfill_done_at IS NOT NULL ORDER BY n.id LIMIT ?1";
static const char notify_sql_backfill[] =
    "SELECT n.state, n.user_id, n.items, u.email, u.name, u.disabled,"
    " (SELECT notify FROM memberships"
    "  WHERE user_id = n.user_id AND org_id = n.org_id),"
    " s.connector, o.code, o.name"
    " FROM notification_outbox n JOIN users u ON u.id = n.user_id"
    " JOIN sources s ON s.id = n.source_id"
    " JOIN organisations o ON o.id = n.org_id WHERE n.id = ?1";
/* Digests hold what was waiting at the hour (?1); the rest, tomorrow's. */
static const char notify_sql_digest_users[] =
    "SELECT DISTINCT n.user_id FROM notification_outbox n"
    " WHERE n.state = 'digest' AND n.created_at < ?1"
    " AND NOT EXISTS (SELECT 1 FROM mails d"
    "  WHERE d.user_id = n.user_id AND d.kind = 'digest'"
    "  AND d.created_at >= ?1) ORDER BY n.user_id LIMIT ?2";
/* What no longer concerns the user: not mailed, not in the digest. */
static const char notify_sql_digest_drop[] =
    "UPDATE notification_outbox SET state = 'dropped'"
    " WHERE user_id = ?1 AND state = 'digest' AND ("
    "  (SELECT disabled FROM users WHERE id = ?1) = 1"
    "  OR coalesce((SELECT notify FROM memberships mb WHERE mb.user_id = ?1"
    "   AND mb.org_id = notification_outbox.org_id), 'none') = 'none'"
    "  OR (SELECT status FROM threads t"
    "   WHERE t.id = notification_outbox.thread_id) = 'hidden'"
    "  OR (SELECT hidden FROM messages m"
    "   WHERE m.id = notification_outbox.message_id) = 1)";
static const char notify_sql_digest_rows[] =
    "SELECT n.kind, t.id, t.reference, t.subject, t.connector, o.code,"
    " o.name, m.author_name, m.body, m.rating"
    " FROM notification_outbox n JOIN threads t ON t.id = n.thread_id"
    " JOIN organisations o ON o.id = t.org_id"
    " JOIN messages m ON m.id = n.message_id"
    " WHERE n.user_id = ?1 AND n.state = 'digest' AND n.created_at < ?3"
    " ORDER BY n.id LIMIT ?2";
static const char notify_sql_digest_count[] =
    "SELECT count(*) FROM notification_outbox"
    " WHERE user_id = ?1 AND state = 'digest' AND created_at < ?2";
static const char notify_sql_digest_done[] =
    "UPDATE notification_outbox SET state = 'mailed', mail_id = ?2"
    " WHERE user_id = ?1 AND state = 'digest' AND created_at < ?3";
/* A digest that cannot be built (an address gone bad) is not retried. */
static const char notify_sql_digest_void[] =
    "UPDATE notification_outbox SET state = 'dropped'"
    " WHERE user_id = ?1 AND state = 'digest' AND created_at < ?2";
static const char notify_sql_user[] =
    "SELECT email, name, disabled FROM users WHERE id = ?1";
static const char notify_sql_confirm_due[] =
    "SELECT id FROM reply_outbox WHERE via = 'email'"
    " AND confirmed_at IS NULL"
    " AND status IN ('posted', 'failed', 'handoff', 'unknown')"
    " ORDER BY id LIMIT ?1";
static const char notify_sql_confirm[] =
    "SELECT r.status, r.error, r.body, r.confirmed_at, r.user_id,"
    " u.email, u.name, u.disabled, t.id, t.reference, t.connector,"
    " o.code, o.name, m.url,"
    " (SELECT url FROM tasks WHERE reply_id = r.id ORDER BY id LIMIT 1)"
    " FROM reply_outbox r JOIN threads t ON t.id = r.thread_id"
    " JOIN organisations o ON o.id = t.org_id"
    " LEFT JOIN users u ON u.id = r.user_id"
    " LEFT JOIN messages m ON m.id = r.message_id WHERE r.id = ?1";
static const char notify_sql_confirmed[] =
    "UPDATE reply_outbox SET confirmed_at = ?2"
    " WHERE id = ?1 AND confirmed_at IS NULL";
static const char notify_sql_refused_lately[] =
    "SELECT 1 FROM mails WHERE rcpt = ?1 AND kind = 'refusal'"
    " AND created_at > ?2 LIMIT 1";
static const char notify_sql_admins[] =
    "SELECT id, email, name FROM users WHERE role = 'admin'"
    " AND disabled = 0 ORDER BY id";

/* Steps a statement that returns no row, and resets it; 0 or -1. */
static int
notify_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
notify_fail(struct notify_ctx *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s: %s", what, store_errmsg(c->s));
	return -1;
}

/* The domain of the ids: reply_domain, else from's. -1 if neither. */
static int
notify_ctx_init(struct notify_ctx *c, struct store *s,
    const struct notify_opts *o, int64_t now, char *err, size_t errlen)
{
	char addr[256], *at;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->o = o;
	c->now = now;
	c->err = err;
	c->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (mail_addr_spec(o->from, addr, sizeof(addr)) == -1) {
		snprintf(err, errlen, "[mail] from is not an address: %s",
		    o->from != NULL ? o->from : "(unset)");
		return -1;
	}
	at = strchr(addr, '@');
	snprintf(c->domain, sizeof(c->domain), "%s",
	    o->reply_domain != NULL && *o->reply_domain != '\0' ?
	    o->reply_domain : at + 1);
	return 0;
}

/* At most max bytes of s, cut on a character and marked; owned. */
static char *
notify_cut(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return xstrdup("");
	if ((n = strlen(s)) <= max)
		return xstrdup(s);
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return xasprintf("%.*s\xe2\x80\xa6", (int)n, s);
}

/* The text on one line, cut to max; owned. For digest lines. */
static char *
notify_excerpt(const char *s, size_t max)
{
	char *one = notify_cut(s, max), *p;

	for (p = one; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return one;
}

static void
notify_h(struct buf *b, const char *s)
{
	char *e = mail_html_escape(s);

	buf_puts(b, e);
	free(e);
}

/* "> "-quoted lines, cut to NOTIFY_QUOTE_MAX. */
static void
notify_quote_text(struct buf *b, const char *words)
{
	char *cut = notify_cut(words, NOTIFY_QUOTE_MAX), *line, *save = NULL;

	for (line = strtok_r(cut, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		buf_printf(b, "> %s\n", line);
	free(cut);
}

static void
notify_quote_html(struct buf *b, const char *words)
{
	char *cut = notify_cut(words, NOTIFY_QUOTE_MAX);

	buf_puts(b, "<blockquote style=\"margin:0 0 1em;padding:0 1em;"
	    "border-left:3px solid #005eb8;white-space:pre-wrap\">");
	notify_h(b, cut);
	buf_puts(b, "</blockquote>\n");
	free(cut);
}

/* A link only when it is http(s): a channel's URL is not to be trusted. */
static void
notify_link_html(struct buf *b, const char *label, const char *url)
{
	if (url == NULL || (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0))
		return;
	buf_puts(b, "<p>");
	notify_h(b, label);
	buf_puts(b, " <a href=\"");
	notify_h(b, url);
	buf_puts(b, "\">");
	notify_h(b, url);
	buf_puts(b, "</a></p>\n");
}

/*
 * The channel's name for people: its title up to any qualifier ("Care
 * Opinion (API v2): stories..." is "Care Opinion"), else the
 * connector's name. In the context's buffer, until the next call.
 */
static const char *
notify_channel(struct notify_ctx *c, const char *connector)
{
	const char *t = NULL;
	size_t n;

	if (c->o->channel_title != NULL && connector != NULL)
		t = c->o->channel_title(connector);
	if (t == NULL)
		t = connector != NULL ? connector : "?";
	n = strcspn(t, ":(");
	while (n > 0 && t[n - 1] == ' ')
		n--;
	snprintf(c->chan, sizeof(c->chan), "%.*s", (int)(n > 0 ? n :
	    strlen(t)), t);
	return c->chan;
}

static char *
notify_thread_url(const struct notify_ctx *c, int64_t thread)
{
	return xasprintf("%s/#/threads/%" PRId64, c->o->base_url != NULL ?
	    c->o->base_url : "", thread);
}

static char *
notify_settings_url(const struct notify_ctx *c)
{
	return xasprintf("%s/#/settings", c->o->base_url != NULL ?
	    c->o->base_url : "");
}

static void
notify_when(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%d %b %Y, %H:%M UTC", &tm) == 0)
		snprintf(out, len, "?");
}

static char *
notify_take(struct buf *b)
{
	return b->data != NULL ? b->data : xstrdup("");
}

/* First and latest ids of the thread's mails to the user, oldest first. */
static char *
notify_chain(struct notify_ctx *c, int64_t thread, int64_t user,
    char **last)
{
	char *ids[NOTIFY_CHAIN_MAX], *first = NULL;
	sqlite3_stmt *q;
	struct buf b;
	int n = 0, i;

	*last = NULL;
	if ((q = store_stmt(c->s, notify_sql_chain_first)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, user);
	if (sqlite3_step(q) == SQLITE_ROW)
		first = store_col_strdup(q, 0);
	sqlite3_reset(q);
	if (first == NULL || (q = store_stmt(c->s,
	    notify_sql_chain_last)) == NULL)
		return first;
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, user);
	sqlite3_bind_int(q, 3, NOTIFY_CHAIN_MAX - 1);
	while (n < NOTIFY_CHAIN_MAX - 1 && sqlite3_step(q) == SQLITE_ROW)
		ids[n++] = store_col_strdup(q, 0);
	sqlite3_reset(q);
	buf_init(&b, 0);
	buf_puts(&b, first);
	for (i = n - 1; i >= 0; i--) {
		if (strcmp(ids[i], first) != 0)
			buf_printf(&b, " %s", ids[i]);
		if (i == 0)
			*last = ids[i];
		else
			free(ids[i]);
	}
	if (*last == NULL)
		*last = xstrdup(first);
	free(first);
	return notify_take(&b);
}

static int64_t
notify_next_id(struct notify_ctx *c)
{
	sqlite3_stmt *q;
	int64_t id = -1;

	if ((q = store_stmt(c->s, notify_sql_next_id)) == NULL)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id;
}

static int
notify_mail_insert(struct notify_ctx *c, const struct notify_mail *m,
    int64_t id, const char *msgid, const char *bytes, size_t len)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(c->s, notify_sql_mail_insert)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, m->kind);
	store_bind_time(q, 3, m->user_id);
	store_bind_time(q, 4, m->thread_id);
	store_bind_text(q, 5, m->rcpt);
	store_bind_text(q, 6, msgid);
	store_bind_text(q, 7, m->subject);
	sqlite3_bind_blob(q, 8, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 9, c->now);
	return notify_run(q);
}

/* Builds the mail whole and stores it; inside the caller's transaction. */
static int64_t
notify_mail_build(struct notify_ctx *c, const struct notify_mail *m,
    struct mail_out *out, int64_t id)
{
	char msgid[512], *bytes;
	size_t len = 0;
	int rc;

	if (m->thread_id > 0)
		snprintf(msgid, sizeof(msgid), "heard.t%" PRId64 ".m%" PRId64
		    "@%s", m->thread_id, id, c->domain);
	else
		snprintf(msgid, sizeof(msgid), "heard.%s.m%" PRId64 "@%s",
		    m->kind, id, c->domain);
	out->message_id = msgid;
	if ((bytes = mail_compose(out, &len)) == NULL) {
		snprintf(c->err, c->errlen, "a %s mail to %s cannot be built "
		    "(an address or id of the wrong shape); dropped", m->kind,
		    m->rcpt);
		return 0;
	}
	rc = notify_mail_insert(c, m, id, msgid, bytes, len);
	free(bytes);
	return rc == -1 ? -1 : id;
}

/*
 * The mail as a row of mails, queued for the mailer: its id, 0 if it
 * cannot be built (err says why), -1 on a store error.
 */
static int64_t
notify_mail_put(struct notify_ctx *c, const struct notify_mail *m)
{
	struct mail_out out = {
		.from = c->o->from, .to = m->rcpt, .subject = m->subject,
		.text = m->text, .html = m->html, .date = c->now,
		.auto_generated = 1, .in_reply_to = m->in_reply_to,
	};
	char tok[REPLY_TOKEN_MAX], reply_to[REPLY_TOKEN_MAX + 300];
	char *refs = NULL, *last = NULL, *unsub = NULL;
	int64_t id;

	if ((id = notify_next_id(c)) == -1)
		return -1;
	if (m->rcpt_name != NULL && *m->rcpt_name != '\0')
		out.to_name = m->rcpt_name;
	if (m->reply_token && c->o->key != NULL && reply_token_make(c->o->key,
	    c->o->key_len, m->thread_id, m->user_id, tok) == 0) {
		snprintf(reply_to, sizeof(reply_to), "reply+%s@%s", tok,
		    c->domain);
		out.reply_to = reply_to;
	}
	if (m->threaded && m->thread_id > 0 && m->user_id > 0) {
		refs = notify_chain(c, m->thread_id, m->user_id, &last);
		out.references = refs;
		out.in_reply_to = last;
	}
	if (m->unsubscribe)
		out.list_unsubscribe = unsub = notify_settings_url(c);
	id = notify_mail_build(c, m, &out, id);
	free(refs);
	free(last);
	free(unsub);
	return id;
}

static int
notify_set_state(struct notify_ctx *c, int64_t row, const char *from,
    const char *to, int64_t mail)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(c->s, notify_sql_row_state)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, row);
	store_bind_text(q, 2, to);
	store_bind_time(q, 3, mail);
	store_bind_text(q, 4, from);
	return notify_run(q);
}

/* Mails of each event to the user in the hour before now. */
static int64_t
notify_sent_hour(struct notify_ctx *c, int64_t user)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	if ((q = store_stmt(c->s, notify_sql_sent_hour)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int64(q, 2, c->now - NOTIFY_HOUR);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return n;
}

/* One new conversation or message, as the notification needs it. */
struct notify_event {
	char	*state, *kind, *email, *name, *role, *pref, *reference;
	char	*tstatus, *connector, *org_code, *org_name, *author, *title;
	char	*body, *url;
	int64_t	 user_id, thread_id, created_at;
	int	 disabled, rating, hidden;
};

static void
notify_event_free(struct notify_event *e)
{
	char **all[] = { &e->state, &e->kind, &e->email, &e->name, &e->role,
	    &e->pref, &e->reference, &e->tstatus, &e->connector, &e->org_code,
	    &e->org_name, &e->author, &e->title, &e->body, &e->url };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(*all[i]);
	memset(e, 0, sizeof(*e));
}

/* 1 and e filled, 0 if the row is gone, -1 on error. */
static int
notify_event_get(struct notify_ctx *c, int64_t row, struct notify_event *e)
{
	char **text[] = { &e->state, &e->kind, NULL, &e->email, &e->name,
	    &e->role, NULL, &e->pref, NULL, &e->reference, &e->tstatus,
	    &e->connector, &e->org_code, &e->org_name, &e->author, &e->title,
	    &e->body, &e->url };
	sqlite3_stmt *q;
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((q = store_stmt(c->s, notify_sql_event)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, row);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
			if (text[i] != NULL)
				*text[i] = store_col_strdup(q, (int)i);
		e->user_id = sqlite3_column_int64(q, 2);
		e->disabled = sqlite3_column_int(q, 6);
		e->thread_id = sqlite3_column_int64(q, 8);
		e->rating = sqlite3_column_int(q, 18);
		e->hidden = sqlite3_column_int(q, 19);
		e->created_at = sqlite3_column_int64(q, 20);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * What becomes of a pending event now: NULL, a mail; "dropped" when the
 * user no longer wants it or it was moderated away meanwhile; "digest".
 */
static const char *
notify_event_fate(struct notify_ctx *c, const struct notify_event *e)
{
	int64_t sent;

	if (e->disabled || e->hidden || e->pref == NULL ||
	    strcmp(e->pref, "none") == 0 ||
	    (e->tstatus != NULL && strcmp(e->tstatus, "hidden") == 0) ||
	    (strcmp(e->pref, "conversation") == 0 &&
	    strcmp(e->kind, "new_thread") != 0))
		return "dropped";
	if (strcmp(e->pref, "digest") == 0)
		return "digest";
	if ((sent = notify_sent_hour(c, e->user_id)) == -1)
		return "error";
	return sent >= c->o->per_hour ? "digest" : NULL;
}

/* "[H-ABC123] New conversation at Royal Free: Care Opinion" */
static char *
notify_event_subject(struct notify_ctx *c, const struct notify_event *e)
{
	return xasprintf("[%s] New %s at %s: %s", e->reference,
	    strcmp(e->kind, "new_thread") == 0 ? "conversation" : "message",
	    e->org_name, notify_channel(c, e->connector));
}

static void
notify_event_text(struct notify_ctx *c, const struct notify_event *e,
    struct buf *b, const char *turl)
{
	const char *chan = notify_channel(c, e->connector);
	char when[64];

	notify_when(e->created_at, when, sizeof(when));
	buf_printf(b, "A new %s at %s (%s), on %s.\n\n",
	    strcmp(e->kind, "new_thread") == 0 ? "conversation" : "message",
	    e->org_name, e->org_code, chan);
	if (e->title != NULL && *e->title != '\0')
		buf_printf(b, "%s\n", e->title);
	buf_printf(b, "%s wrote, %s:\n\n", e->author != NULL &&
	    *e->author != '\0' ? e->author : "Someone", when);
	notify_quote_text(b, e->body);
	buf_puts(b, "\n");
	if (e->rating > 0)
		buf_printf(b, "Rating: %d out of 5\n", e->rating);
	buf_printf(b, "Reference: %s\nOpen it in heard: %s\n", e->reference,
	    turl);
	if (e->url != NULL)
		buf_printf(b, "On %s: %s\n", chan, e->url);
	if (strcmp(e->role, "reviewer") == 0)
		buf_puts(b, "\nYou review this organisation: you can read "
		    "the conversation but not answer it.\n");
	else
		buf_printf(b, "\nAnswer the patient by replying to this mail: "
		    "heard relays your answer to %s.\n", chan);
	buf_printf(b, "\nYou get this mail because you chose to hear of "
	    "every new %s at %s.\n",
	    strcmp(e->pref, "message") == 0 ? "message" : "conversation",
	    e->org_code);
}

static void
notify_event_html(struct notify_ctx *c, const struct notify_event *e,
    struct buf *b, const char *turl)
{
	const char *chan = notify_channel(c, e->connector);
	char when[64];

	notify_when(e->created_at, when, sizeof(when));
	buf_puts(b, "<!DOCTYPE html>\n<html><body style=\"font-family:"
	    "Arial,sans-serif\">\n<p>A new ");
	buf_puts(b, strcmp(e->kind, "new_thread") == 0 ? "conversation" :
	    "message");
	buf_puts(b, " at <b>");
	notify_h(b, e->org_name);
	buf_puts(b, "</b> (");
	notify_h(b, e->org_code);
	buf_puts(b, "), on ");
	notify_h(b, chan);
	buf_puts(b, ".</p>\n");
	if (e->title != NULL && *e->title != '\0') {
		buf_puts(b, "<h3>");
		notify_h(b, e->title);
		buf_puts(b, "</h3>\n");
	}
	buf_puts(b, "<p>");
	notify_h(b, e->author != NULL && *e->author != '\0' ? e->author :
	    "Someone");
	buf_printf(b, " wrote, %s:</p>\n", when);
	notify_quote_html(b, e->body);
	if (e->rating > 0)
		buf_printf(b, "<p>Rating: %d out of 5</p>\n", e->rating);
	buf_puts(b, "<p>Reference: <b>");
	notify_h(b, e->reference);
	buf_puts(b, "</b></p>\n");
	notify_link_html(b, "Open it in heard:", turl);
	notify_link_html(b, "On the channel:", e->url);
	buf_puts(b, strcmp(e->role, "reviewer") == 0 ? "<p>You review this "
	    "organisation: you can read the conversation but not answer "
	    "it.</p>\n" : "<p>Answer the patient by replying to this mail."
	    "</p>\n");
	buf_puts(b, "</body></html>\n");
}

/* The notification of one event; its id, 0 not built, -1 error. */
static int64_t
notify_event_mail(struct notify_ctx *c, const struct notify_event *e)
{
	struct notify_mail m = { .kind = "notification", .user_id = e->user_id,
	    .thread_id = e->thread_id, .rcpt = e->email, .rcpt_name = e->name,
	    .threaded = 1, .unsubscribe = 1 };
	char *turl = notify_thread_url(c, e->thread_id), *subject;
	struct buf text, html;
	int64_t id;

	buf_init(&text, 0);
	buf_init(&html, 0);
	subject = notify_event_subject(c, e);
	notify_event_text(c, e, &text, turl);
	notify_event_html(c, e, &html, turl);
	m.subject = subject;
	m.text = text.data;
	m.html = html.data;
	/* A reviewer may not answer: no address to answer to. */
	m.reply_token = strcmp(e->role, "reviewer") != 0;
	id = notify_mail_put(c, &m);
	free(subject);
	free(turl);
	buf_free(&text);
	buf_free(&html);
	return id;
}

/* The row's fate, applied; inside its transaction. 1 a mail, 0, -1. */
static int
notify_event_settle(struct notify_ctx *c, int64_t row,
    const struct notify_event *e)
{
	const char *fate = notify_event_fate(c, e);
	int64_t mail;

	if (fate != NULL && strcmp(fate, "error") == 0)
		return -1;
	if (fate != NULL)
		return notify_set_state(c, row, "pending", fate, 0);
	if ((mail = notify_event_mail(c, e)) == -1)
		return -1;
	if (notify_set_state(c, row, "pending", mail > 0 ? "mailed" :
	    "dropped", mail) == -1)
		return -1;
	return mail > 0 ? 1 : 0;
}

/* One pending event, in its own transaction. 1 a mail, 0 none, -1. */
static int
notify_event_one(struct notify_ctx *c, int64_t row)
{
	struct notify_event e;
	int rc;

	if (store_begin(c->s) == -1)
		return notify_fail(c, "begin");
	rc = notify_event_get(c, row, &e);
	if (rc == 1 && strcmp(e.state, "pending") == 0)
		rc = notify_event_settle(c, row, &e);
	else if (rc == 1)
		rc = 0;
	notify_event_free(&e);
	if (rc != -1 && store_commit(c->s) == -1)
		rc = -1;
	if (rc == -1) {
		notify_fail(c, "notification");
		store_rollback(c->s);
	}
	return rc;
}

/* Up to max ids from a query bound with ?1 = max (and ?2 when set). */
static size_t
notify_ids(struct notify_ctx *c, const char *sql, int64_t arg2,
    int64_t *ids, size_t max)
{
	sqlite3_stmt *q;
	size_t n = 0;

	if ((q = store_stmt(c->s, sql)) == NULL)
		return 0;
	if (sql == notify_sql_digest_users) {
		sqlite3_bind_int64(q, 1, arg2);
		sqlite3_bind_int64(q, 2, (int64_t)max);
	} else
		sqlite3_bind_int64(q, 1, (int64_t)max);
	while (n < max && sqlite3_step(q) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return n;
}

typedef int (*notify_one_fn)(struct notify_ctx *, int64_t);

/* Runs one() on each id the query gives; mails made, or -1. */
static int
notify_each(struct notify_ctx *c, const char *sql, int64_t arg2,
    notify_one_fn one)
{
	int64_t ids[NOTIFY_BATCH];
	size_t n, i;
	int made = 0, rc;

	n = notify_ids(c, sql, arg2, ids, NOTIFY_BATCH);
	for (i = 0; i < n; i++) {
		if ((rc = one(c, ids[i])) == -1)
			return -1;
		made += rc;
	}
	return made;
}

/* One source's history, as the user needs it for the summary. */
struct notify_backfill {
	char	*state, *email, *name, *pref, *connector, *org_code, *org_name;
	int64_t	 user_id, items;
	int	 disabled;
};

static void
notify_backfill_free(struct notify_backfill *f)
{
	free(f->state);
	free(f->email);
	free(f->name);
	free(f->pref);
	free(f->connector);
	free(f->org_code);
	free(f->org_name);
	memset(f, 0, sizeof(*f));
}

static int
notify_backfill_get(struct notify_ctx *c, int64_t row,
    struct notify_backfill *f)
{
	sqlite3_stmt *q;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((q = store_stmt(c->s, notify_sql_backfill)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, row);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		f->state = store_col_strdup(q, 0);
		f->user_id = sqlite3_column_int64(q, 1);
		f->items = sqlite3_column_int64(q, 2);
		f->email = store_col_strdup(q, 3);
		f->name = store_col_strdup(q, 4);
		f->disabled = sqlite3_column_int(q, 5);
		f->pref = store_col_strdup(q, 6);
		f->connector = store_col_strdup(q, 7);
		f->org_code = store_col_strdup(q, 8);
		f->org_name = store_col_strdup(q, 9);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* "RJ1 Care Opinion: 143 earlier stories were imported; ..." */
static int64_t
notify_backfill_mail(struct notify_ctx *c, const struct notify_backfill *f)
{
	struct notify_mail m = { .kind = "backfill", .user_id = f->user_id,
	    .rcpt = f->email, .rcpt_name = f->name, .unsubscribe = 1 };
	const char *chan = notify_channel(c, f->connector);
	char *url = xasprintf("%s/#/threads", c->o->base_url != NULL ?
	    c->o->base_url : ""), *subject, *line;
	struct buf text, html;
	int64_t id;

	line = xasprintf("%s %s: %" PRId64 " earlier %s imported; nothing "
	    "was mailed for each", f->org_code, chan, f->items,
	    f->items == 1 ? "story was" : "stories were");
	subject = xasprintf("[heard] %s", line);
	buf_init(&text, 0);
	buf_init(&html, 0);
	buf_printf(&text, "%s.\n\nheard has begun to follow %s for %s (%s). "
	    "What it found there from before is in the inbox, without a "
	    "mail for each; from now on you hear of what is new.\n\n"
	    "See them in heard: %s\n", line, chan, f->org_name, f->org_code,
	    url);
	buf_puts(&html, "<!DOCTYPE html>\n<html><body><p>");
	notify_h(&html, line);
	buf_puts(&html, ".</p>\n<p>heard has begun to follow ");
	notify_h(&html, chan);
	buf_puts(&html, " for ");
	notify_h(&html, f->org_name);
	buf_puts(&html, ". What it found there from before is in the inbox, "
	    "without a mail for each; from now on you hear of what is "
	    "new.</p>\n");
	notify_link_html(&html, "See them in heard:", url);
	buf_puts(&html, "</body></html>\n");
	m.subject = subject;
	m.text = text.data;
	m.html = html.data;
	id = notify_mail_put(c, &m);
	free(line);
	free(subject);
	free(url);
	buf_free(&text);
	buf_free(&html);
	return id;
}

static int
notify_backfill_settle(struct notify_ctx *c, int64_t row,
    const struct notify_backfill *f)
{
	int64_t mail = 0;

	if (!f->disabled && f->pref != NULL && strcmp(f->pref, "none") != 0 &&
	    f->items > 0 && (mail = notify_backfill_mail(c, f)) == -1)
		return -1;
	if (notify_set_state(c, row, "pending", mail > 0 ? "mailed" :
	    "dropped", mail) == -1)
		return -1;
	return mail > 0 ? 1 : 0;
}

static int
notify_backfill_one(struct notify_ctx *c, int64_t row)
{
	struct notify_backfill f;
	int rc;

	if (store_begin(c->s) == -1)
		return notify_fail(c, "begin");
	rc = notify_backfill_get(c, row, &f);
	if (rc == 1 && strcmp(f.state, "pending") == 0)
		rc = notify_backfill_settle(c, row, &f);
	else if (rc == 1)
		rc = 0;
	notify_backfill_free(&f);
	if (rc != -1 && store_commit(c->s) == -1)
		rc = -1;
	if (rc == -1) {
		notify_fail(c, "backfill summary");
		store_rollback(c->s);
	}
	return rc;
}

static int
notify_backfills(struct notify_ctx *c)
{
	sqlite3_stmt *q;

	/* The source was removed before its first poll ended. */
	if ((q = store_stmt(c->s, notify_sql_backfill_orphans)) == NULL ||
	    notify_run(q) == -1)
		return notify_fail(c, "backfill");
	return notify_each(c, notify_sql_backfill_due, 0,
	    notify_backfill_one);
}

/* One line of a digest, in text and HTML. */
static void
notify_digest_line(struct notify_ctx *c, sqlite3_stmt *q, struct buf *text,
    struct buf *html)
{
	const char *chan = notify_channel(c, store_col_text(q, 4));
	const char *author = store_col_text(q, 7);
	char *excerpt = notify_excerpt(store_col_text(q, 8),
	    NOTIFY_EXCERPT_MAX);
	char *url = notify_thread_url(c, sqlite3_column_int64(q, 1));
	int new_thread = strcmp(store_col_text(q, 0), "new_thread") == 0;

	if (author == NULL || *author == '\0')
		author = "Someone";
	buf_printf(text, "- [%s] %s, %s: %s%s wrote: \"%s\"\n  %s\n",
	    store_col_text(q, 2), store_col_text(q, 5), chan,
	    new_thread ? "new conversation; " : "", author, excerpt, url);
	buf_puts(html, "<li><b>");
	notify_h(html, store_col_text(q, 2));
	buf_puts(html, "</b> ");
	notify_h(html, store_col_text(q, 6));
	buf_puts(html, ", ");
	notify_h(html, chan);
	buf_puts(html, new_thread ? " (new conversation)" : "");
	buf_puts(html, ": ");
	notify_h(html, author);
	buf_puts(html, " wrote <q>");
	notify_h(html, excerpt);
	buf_puts(html, "</q> <a href=\"");
	notify_h(html, url);
	buf_puts(html, "\">open</a></li>\n");
	free(excerpt);
	free(url);
}

/* The digest's list; the number of events it stands for, or -1. */
static int64_t
notify_digest_body(struct notify_ctx *c, int64_t user, struct buf *text,
    struct buf *html)
{
	sqlite3_stmt *q;
	int64_t listed = 0, all = -1;

	if ((q = store_stmt(c->s, notify_sql_digest_rows)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int(q, 2, NOTIFY_DIGEST_MAX);
	sqlite3_bind_int64(q, 3, c->digest_at);
	buf_puts(html, "<ul>\n");
	while (sqlite3_step(q) == SQLITE_ROW) {
		notify_digest_line(c, q, text, html);
		listed++;
	}
	sqlite3_reset(q);
	buf_puts(html, "</ul>\n");
	if ((q = store_stmt(c->s, notify_sql_digest_count)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int64(q, 2, c->digest_at);
	if (sqlite3_step(q) == SQLITE_ROW)
		all = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (all > listed) {
		buf_printf(text, "\n... and %" PRId64 " more in heard.\n",
		    all - listed);
		buf_printf(html, "<p>... and %" PRId64 " more in heard.</p>\n",
		    all - listed);
	}
	return all;
}

static int
notify_user_get(struct notify_ctx *c, int64_t user, char **email,
    char **name)
{
	sqlite3_stmt *q;
	int rc, ok = 0;

	*email = *name = NULL;
	if ((q = store_stmt(c->s, notify_sql_user)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_int(q, 2) == 0) {
		*email = store_col_strdup(q, 0);
		*name = store_col_strdup(q, 1);
		ok = 1;
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ok : -1;
}

/* Builds and stores the digest of what the user has waiting. */
static int64_t
notify_digest_mail(struct notify_ctx *c, int64_t user, const char *email,
    const char *name)
{
	struct notify_mail m = { .kind = "digest", .user_id = user,
	    .rcpt = email, .rcpt_name = name, .unsubscribe = 1 };
	struct buf text, html;
	int64_t n, id = -1;
	char *subject = NULL;

	buf_init(&text, 0);
	buf_init(&html, 0);
	buf_puts(&text, "What patients said that heard has not mailed you "
	    "one by one:\n\n");
	buf_puts(&html, "<!DOCTYPE html>\n<html><body><p>What patients said "
	    "that heard has not mailed you one by one:</p>\n");
	if ((n = notify_digest_body(c, user, &text, &html)) < 0)
		goto out;
	buf_puts(&html, "</body></html>\n");
	subject = xasprintf("[heard] Digest: %" PRId64 " %s", n,
	    n == 1 ? "message" : "messages");
	m.subject = subject;
	m.text = text.data;
	m.html = html.data;
	id = n == 0 ? 0 : notify_mail_put(c, &m);
out:
	free(subject);
	buf_free(&text);
	buf_free(&html);
	return id;
}

static int
notify_digest_settle(struct notify_ctx *c, int64_t user)
{
	sqlite3_stmt *q;
	char *email = NULL, *name = NULL;
	int64_t mail = 0;
	int rc;

	if ((q = store_stmt(c->s, notify_sql_digest_drop)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	if (notify_run(q) == -1 ||
	    (rc = notify_user_get(c, user, &email, &name)) == -1)
		return -1;
	if (rc == 1)
		mail = notify_digest_mail(c, user, email, name);
	free(email);
	free(name);
	if (mail == -1)
		return -1;
	if (mail == 0) {
		if ((q = store_stmt(c->s, notify_sql_digest_void)) == NULL)
			return -1;
		sqlite3_bind_int64(q, 1, user);
		sqlite3_bind_int64(q, 2, c->digest_at);
		return notify_run(q);
	}
	if ((q = store_stmt(c->s, notify_sql_digest_done)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int64(q, 2, mail);
	sqlite3_bind_int64(q, 3, c->digest_at);
	return notify_run(q) == -1 ? -1 : 1;
}

static int
notify_digest_one(struct notify_ctx *c, int64_t user)
{
	int rc;

	if (store_begin(c->s) == -1)
		return notify_fail(c, "begin");
	rc = notify_digest_settle(c, user);
	if (rc != -1 && store_commit(c->s) == -1)
		rc = -1;
	if (rc == -1) {
		notify_fail(c, "digest");
		store_rollback(c->s);
	}
	return rc;
}

/*
 * Once today's digest hour has come, each user with something that
 * was waiting then gets one digest of it (late, if the daemon was not
 * running at the hour); what comes after waits for tomorrow's.
 */
static int
notify_digests(struct notify_ctx *c)
{
	c->digest_at = c->now - c->now % NOTIFY_DAY +
	    (int64_t)c->o->digest_hour * NOTIFY_HOUR;
	if (c->now < c->digest_at)
		return 0;
	return notify_each(c, notify_sql_digest_users, c->digest_at,
	    notify_digest_one);
}

/* An emailed reply's outcome, as its author is told it. */
struct notify_outcome {
	char	*status, *error, *body, *email, *name, *reference;
	char	*connector, *org_code, *org_name, *url, *task_url;
	int64_t	 user_id, thread_id;
	int	 confirmed, disabled;
};

static void
notify_outcome_free(struct notify_outcome *r)
{
	char **all[] = { &r->status, &r->error, &r->body, &r->email,
	    &r->name, &r->reference, &r->connector, &r->org_code,
	    &r->org_name, &r->url, &r->task_url };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(*all[i]);
	memset(r, 0, sizeof(*r));
}

static int
notify_outcome_get(struct notify_ctx *c, int64_t id,
    struct notify_outcome *r)
{
	char **text[] = { &r->status, &r->error, &r->body, NULL, NULL,
	    &r->email, &r->name, NULL, NULL, &r->reference, &r->connector,
	    &r->org_code, &r->org_name, &r->url, &r->task_url };
	sqlite3_stmt *q;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((q = store_stmt(c->s, notify_sql_confirm)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
			if (text[i] != NULL)
				*text[i] = store_col_strdup(q, (int)i);
		r->confirmed = sqlite3_column_type(q, 3) != SQLITE_NULL;
		r->user_id = sqlite3_column_int64(q, 4);
		r->disabled = sqlite3_column_int(q, 7);
		r->thread_id = sqlite3_column_int64(q, 8);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* What happened, in a sentence, and the link that goes with it. */
static void
notify_outcome_words(struct notify_ctx *c, const struct notify_outcome *r,
    const char *turl, struct buf *b)
{
	const char *chan = notify_channel(c, r->connector);
	const char *err = r->error != NULL ? r->error : "no reason given";

	if (strcmp(r->status, "posted") == 0)
		buf_printf(b, "Your reply to %s was posted on %s:\n%s\n",
		    r->reference, chan, r->url != NULL ? r->url : turl);
	else if (strcmp(r->status, "handoff") == 0)
		buf_printf(b, "%s takes no replies from heard: please post "
		    "your reply to %s yourself%s%s. heard closes the task "
		    "when it sees your reply there.\n", chan, r->reference,
		    r->task_url != NULL ? " at " : "",
		    r->task_url != NULL ? r->task_url : "");
	else if (strcmp(r->status, "failed") == 0)
		buf_printf(b, "Your reply to %s could not be posted on %s: "
		    "%s.\nIt is kept in heard, where you can send it again: "
		    "%s\n", r->reference, chan, err, turl);
	else
		buf_printf(b, "heard cannot tell whether your reply to %s "
		    "reached %s (%s). Please look at the channel before "
		    "sending it again from heard: %s\n", r->reference, chan,
		    err, turl);
}

static int64_t
notify_outcome_mail(struct notify_ctx *c, const struct notify_outcome *r)
{
	struct notify_mail m = { .kind = "confirmation", .user_id = r->user_id,
	    .thread_id = r->thread_id, .rcpt = r->email, .rcpt_name = r->name,
	    .threaded = 1, .reply_token = 1 };
	char *turl = notify_thread_url(c, r->thread_id), *subject;
	struct buf text, html, words;
	int64_t id;

	buf_init(&text, 0);
	buf_init(&html, 0);
	buf_init(&words, 0);
	notify_outcome_words(c, r, turl, &words);
	subject = xasprintf("[%s] Your reply: %s", r->reference,
	    strcmp(r->status, "posted") == 0 ? "posted" :
	    strcmp(r->status, "handoff") == 0 ? "please post it yourself" :
	    strcmp(r->status, "failed") == 0 ? "not posted" : "check it");
	buf_printf(&text, "%s\nYou wrote:\n\n", words.data);
	notify_quote_text(&text, r->body);
	buf_puts(&html, "<!DOCTYPE html>\n<html><body><p style=\""
	    "white-space:pre-wrap\">");
	notify_h(&html, words.data);
	buf_puts(&html, "</p>\n<p>You wrote:</p>\n");
	notify_quote_html(&html, r->body);
	buf_puts(&html, "</body></html>\n");
	m.subject = subject;
	m.text = text.data;
	m.html = html.data;
	id = notify_mail_put(c, &m);
	free(subject);
	free(turl);
	buf_free(&text);
	buf_free(&html);
	buf_free(&words);
	return id;
}

static int
notify_outcome_settle(struct notify_ctx *c, int64_t id,
    const struct notify_outcome *r)
{
	sqlite3_stmt *q;
	int64_t mail = 0;

	/* Nobody left to tell (the account is gone): settled all the same. */
	if (r->email != NULL && !r->disabled &&
	    (mail = notify_outcome_mail(c, r)) == -1)
		return -1;
	if ((q = store_stmt(c->s, notify_sql_confirmed)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, c->now);
	return notify_run(q) == -1 ? -1 : mail > 0;
}

static int
notify_outcome_one(struct notify_ctx *c, int64_t id)
{
	struct notify_outcome r;
	int rc;

	if (store_begin(c->s) == -1)
		return notify_fail(c, "begin");
	rc = notify_outcome_get(c, id, &r);
	if (rc == 1 && !r.confirmed)
		rc = notify_outcome_settle(c, id, &r);
	else if (rc == 1)
		rc = 0;
	notify_outcome_free(&r);
	if (rc != -1 && store_commit(c->s) == -1)
		rc = -1;
	if (rc == -1) {
		notify_fail(c, "confirmation");
		store_rollback(c->s);
	}
	return rc;
}

int
notify_compose(struct store *s, const struct notify_opts *o, int64_t now,
    char *err, size_t errlen)
{
	struct notify_ctx c;
	int made = 0, n;

	if (notify_ctx_init(&c, s, o, now, err, errlen) == -1)
		return -1;
	if ((n = notify_each(&c, notify_sql_pending, 0,
	    notify_event_one)) == -1)
		return -1;
	made += n;
	if ((n = notify_backfills(&c)) == -1)
		return -1;
	made += n;
	if ((n = notify_digests(&c)) == -1)
		return -1;
	made += n;
	if ((n = notify_each(&c, notify_sql_confirm_due, 0,
	    notify_outcome_one)) == -1)
		return -1;
	return made + n;
}

/* A direct mail in a transaction of its own; its id, 0, or -1. */
static int64_t
notify_direct(struct notify_ctx *c, const struct notify_mail *m)
{
	int64_t id;

	if (store_begin(c->s) == -1)
		return -1;
	if ((id = notify_mail_put(c, m)) == -1 || store_commit(c->s) == -1) {
		store_rollback(c->s);
		return -1;
	}
	return id;
}

/* Whether rcpt was sent a refusal in the last hour: 1, 0, -1. */
static int
notify_refused_lately(struct notify_ctx *c, const char *rcpt)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(c->s, notify_sql_refused_lately)) == NULL)
		return -1;
	store_bind_text(q, 1, rcpt);
	sqlite3_bind_int64(q, 2, c->now - NOTIFY_HOUR);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
notify_refusal_body(const char *reason, struct buf *text, struct buf *html)
{
	buf_printf(text, "heard did not pass on your mail: %s.\n\nNothing "
	    "was posted. You get at most one such note an hour.\n", reason);
	buf_puts(html, "<!DOCTYPE html>\n<html><body><p>heard did not pass "
	    "on your mail: ");
	notify_h(html, reason);
	buf_puts(html, ".</p>\n<p>Nothing was posted. You get at most one "
	    "such note an hour.</p>\n</body></html>\n");
}

int64_t
notify_mail_refusal(struct store *s, const struct notify_opts *o,
    const char *rcpt, const char *reason, const char *subject,
    const char *in_reply_to, int64_t now)
{
	struct notify_mail m = { .kind = "refusal", .in_reply_to = in_reply_to };
	struct notify_ctx c;
	struct buf text, html;
	char err[256], *to, *subj, *p;
	int64_t id = -1;
	int rc;

	if (rcpt == NULL || reason == NULL ||
	    notify_ctx_init(&c, s, o, now, err, sizeof(err)) == -1)
		return -1;
	/* One key per address, whatever case it was written in. */
	to = xstrdup(rcpt);
	for (p = to; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((rc = notify_refused_lately(&c, to)) != 0) {
		free(to);
		return rc == 1 ? 0 : -1;
	}
	subj = xasprintf("Re: %s", subject != NULL && *subject != '\0' ?
	    subject : "your mail to heard");
	buf_init(&text, 0);
	buf_init(&html, 0);
	notify_refusal_body(reason, &text, &html);
	m.rcpt = to;
	m.subject = subj;
	m.text = text.data;
	m.html = html.data;
	id = notify_direct(&c, &m);
	/* An In-Reply-To of a shape we cannot repeat is left out. */
	if (id == 0 && in_reply_to != NULL) {
		m.in_reply_to = NULL;
		id = notify_direct(&c, &m);
	}
	free(to);
	free(subj);
	buf_free(&text);
	buf_free(&html);
	return id;
}

int64_t
notify_mail_invitation(struct store *s, const struct notify_opts *o,
    int64_t user_id, const char *inviter, const char *orgs,
    const char *link, int64_t now)
{
	struct notify_mail m = { .kind = "invitation", .user_id = user_id };
	struct notify_ctx c;
	struct buf text, html;
	char err[256], *email = NULL, *name = NULL;
	const char *who = inviter != NULL && *inviter != '\0' ? inviter :
	    "heard";
	int64_t id = -1;

	if (link == NULL || notify_ctx_init(&c, s, o, now, err,
	    sizeof(err)) == -1 ||
	    notify_user_get(&c, user_id, &email, &name) != 1)
		goto out;
	buf_init(&text, 0);
	buf_init(&html, 0);
	buf_printf(&text, "%s invites you to heard, the inbox for what "
	    "patients say about %s.\n\nSet your password here (the link "
	    "works once, and not for long):\n%s\n", who,
	    orgs != NULL && *orgs != '\0' ? orgs : "your organisations", link);
	buf_puts(&html, "<!DOCTYPE html>\n<html><body><p>");
	notify_h(&html, who);
	buf_puts(&html, " invites you to heard, the inbox for what patients "
	    "say about ");
	notify_h(&html, orgs != NULL && *orgs != '\0' ? orgs :
	    "your organisations");
	buf_puts(&html, ".</p>\n");
	notify_link_html(&html, "Set your password here (the link works "
	    "once, and not for long):", link);
	buf_puts(&html, "</body></html>\n");
	m.rcpt = email;
	m.rcpt_name = name;
	m.subject = "You are invited to heard";
	m.text = text.data;
	m.html = html.data;
	id = notify_direct(&c, &m);
	buf_free(&text);
	buf_free(&html);
out:
	free(email);
	free(name);
	return id;
}

/* One alert to each admin; inside the caller's transaction. */
static int
notify_admins_put(struct notify_ctx *c, const char *subject,
    const char *text)
{
	struct notify_mail m = { .kind = "alert", .subject = subject,
	    .text = text };
	int64_t ids[NOTIFY_BATCH];
	char *email[NOTIFY_BATCH], *name[NOTIFY_BATCH];
	sqlite3_stmt *q;
	size_t n = 0, i;
	int64_t id;
	int made = 0;

	if ((q = store_stmt(c->s, notify_sql_admins)) == NULL)
		return -1;
	while (n < NOTIFY_BATCH && sqlite3_step(q) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(q, 0);
		email[n] = store_col_strdup(q, 1);
		name[n++] = store_col_strdup(q, 2);
	}
	sqlite3_reset(q);
	for (i = 0; i < n; i++) {
		m.user_id = ids[i];
		m.rcpt = email[i];
		m.rcpt_name = name[i];
		if (made != -1 && (id = notify_mail_put(c, &m)) == -1)
			made = -1;
		else if (made != -1 && id > 0)
			made++;
		free(email[i]);
		free(name[i]);
	}
	return made;
}

int
notify_mail_admins(struct store *s, const struct notify_opts *o,
    const char *subject, const char *text, int64_t now)
{
	struct notify_ctx c;
	char err[256];
	int made;

	if (subject == NULL || text == NULL ||
	    notify_ctx_init(&c, s, o, now, err, sizeof(err)) == -1)
		return -1;
	if (store_begin(s) == -1)
		return -1;
	if ((made = notify_admins_put(&c, subject, text)) == -1 ||
	    store_commit(s) == -1) {
		store_rollback(s);
		return -1;
	}
	return made;
}

/* ingest: a parsed batch into threads and messages, one transaction. */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "connector.h"
#include "jsonout.h"
#include "orgs.h"
#include "sources.h"
#include "store.h"
#include "tasks.h"
#include "xmalloc.h"

#define INGEST_HASH_LEN		32	/* SHA-256 */
#define INGEST_SUBJECT_MAX	72	/* bytes of body taken as a subject */
#define INGEST_REF_TRIES	16

/* The texts of an item, repaired to UTF-8 where they were not. */
enum ingest_text {
	IT_EXT, IT_KEY, IT_PARENT, IT_AUTHOR, IT_HANDLE, IT_TITLE, IT_BODY,
	IT_URL, IT_STATUS, IT_META, IT_THREAD_STATUS, IT_REF, IT_NTEXT
};

/* One item, ready for the tables. */
struct ingest_msg {
	const char	*t[IT_NTEXT];	/* borrowed from the item or own[] */
	char		*own[IT_NTEXT];	/* owned repairs */
	const char	*dir;		/* "in" or "out" */
	int		 rating;	/* 0: none */
	int64_t		 created;
	int64_t		 updated;
	int64_t		 org;
	unsigned char	 hash[INGEST_HASH_LEN];
};

/* Where an item went: its message and thread, and what was written. */
struct ingest_row {
	int64_t		 id;		/* message */
	int64_t		 thread;
	int		 changed;	/* content differs from the stored */
	int		 removed;	/* stored as removed at source */
	int		 added;		/* a new message */
	int		 written;	/* added, edited or newly removed */
};

/* New stories of a source's first poll, per organisation, this batch. */
struct ingest_backfill {
	int64_t	 org;
	int64_t	 items;
};

/* One batch being stored. */
struct ingest_ctx {
	struct store		*s;	/* borrowed */
	const struct source	*src;	/* borrowed */
	int64_t			 now;
	struct ingest_stats	 st;
	EVP_MD_CTX		*md;	/* owned */
	int			 backfill;	/* the source's first poll */
	int			 pushed;	/* a webhook's: leave the
						   source's row alone */
	struct ingest_backfill	*bf;	/* owned, nbf of them */
	size_t			 nbf;
	char			*err;	/* borrowed: the caller's */
	size_t			 errlen;
};

/*
 * An item's meta as stored: a JSON object (minified), or NULL for
 * anything else, so a connector's slip loses the extras, not the batch.
 */
#define INGEST_META(p) \
    "CASE WHEN json_valid(" p ") THEN" \
    " CASE WHEN json_type(" p ") = 'object' THEN json(" p ") END END"

static const char ingest_sql_find[] =
    "SELECT id, content_hash, removed_at_source, thread_id FROM messages"
    " WHERE connector = ?1 AND external_id = ?2 AND org_id = ?3";
static const char ingest_sql_edit[] =
    "UPDATE messages SET direction = ?2, parent_external_id = ?3,"
    " author_name = ?4, author_handle = ?5, title = ?6, body = ?7,"
    " url = ?8, rating = ?9, channel_status = ?10, updated_at = ?11,"
    " content_hash = ?12, meta = " INGEST_META("?13") " WHERE id = ?1";
static const char ingest_sql_removed[] =
    "UPDATE messages SET removed_at_source = ?2, hidden = 1,"
    " hidden_reason = coalesce(hidden_reason, 'removed at source')"
    " WHERE id = ?1";
static const char ingest_sql_thread[] =
    "SELECT id FROM threads"
    " WHERE org_id = ?1 AND connector = ?2 AND thread_key = ?3";
static const char ingest_sql_parent_thread[] =
    "SELECT thread_id FROM messages"
    " WHERE connector = ?2 AND external_id = ?3 AND org_id = ?1";
static const char ingest_sql_ref_used[] =
    "SELECT 1 FROM threads WHERE reference = ?1";
static const char ingest_sql_thread_new[] =
    "INSERT INTO threads (org_id, source_id, connector, thread_key,"
    " reference, subject, status, first_at, last_at, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', ?7, ?7, ?8, ?8)";
static const char ingest_sql_insert[] =
    "INSERT INTO messages (thread_id, org_id, source_id, connector,"
    " external_id, direction, parent_external_id, author_name,"
    " author_handle, title, body, url, rating, channel_status,"
    " created_at, updated_at, first_seen_at, content_hash, meta)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
    " ?14, ?15, ?16, ?17, ?18, " INGEST_META("?19") ")";
/*
 * A new message from the public reopens a thread staff had resolved
 * or closed: the patient has more to say. Hidden threads stay hidden.
 * The subject is the patient's: a channel that lists the organisation's
 * reply before the post it answers gets the post's title once it comes.
 */
static const char ingest_sql_touch[] =
    "UPDATE threads SET message_count = message_count + 1,"
    " first_at = min(first_at, ?2), last_at = max(last_at, ?2),"
    " first_response_at = CASE WHEN ?3 = 'out'"
    "  THEN min(coalesce(first_response_at, ?2), ?2)"
    "  ELSE first_response_at END,"
    " status = CASE WHEN ?3 = 'in' AND status IN ('resolved', 'closed')"
    "  THEN 'open' ELSE status END,"
    " subject = CASE WHEN subject = '' OR (?3 = 'in' AND"
    "  (SELECT count(*) FROM messages WHERE thread_id = ?1"
    "  AND direction = 'in') = 1) THEN ?4 ELSE subject END,"
    " channel_ref = coalesce(channel_ref, ?6),"
    " updated_at = ?5 WHERE id = ?1";
/*
 * The channel's own word on the thread (an Open311 request closed, a
 * post held as abusive), applied when the item carrying it is new or
 * changed, so a status staff set since is not undone at every poll.
 */
static const char ingest_sql_status[] =
    "UPDATE threads SET status = ?2, updated_at = ?3"
    " WHERE id = ?1 AND status <> ?2";
/*
 * Who hears of a new message from the public: each member of the
 * organisation who asked for every message, or for new conversations
 * when it is the thread's first word from the public, or for the
 * digest (either). Nothing for a hidden thread. Written in the batch's
 * transaction, so a crash loses neither the message nor its mails.
 */
static const char ingest_sql_notify[] =
    "INSERT INTO notification_outbox (user_id, org_id, thread_id,"
    " message_id, source_id, kind, state, created_at)"
    " SELECT mb.user_id, ?1, ?2, ?3, ?4, k.kind, CASE mb.notify"
    "  WHEN 'digest' THEN 'digest' ELSE 'pending' END, ?5"
    " FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM messages"
    "  WHERE thread_id = ?2 AND direction = 'in' AND id <> ?3)"
    "  THEN 'new_message' ELSE 'new_thread' END AS kind) k"
    " JOIN memberships mb ON mb.org_id = ?1"
    " JOIN users u ON u.id = mb.user_id"
    " WHERE u.disabled = 0 AND (mb.notify IN ('message', 'digest')"
    "  OR (mb.notify = 'conversation' AND k.kind = 'new_thread'))"
    " AND (SELECT status FROM threads WHERE id = ?2) <> 'hidden'"
    " ON CONFLICT DO NOTHING";
static const char ingest_sql_backfill[] =
    "SELECT backfill_done_at IS NULL FROM sources WHERE id = ?1";
/* A first poll's history counts into one row per user and source. */
static const char ingest_sql_backfill_add[] =
    "UPDATE notification_outbox SET items = items + ?3"
    " WHERE source_id = ?1 AND org_id = ?2 AND kind = 'backfill'"
    " AND state = 'pending'";
static const char ingest_sql_backfill_new[] =
    "INSERT INTO notification_outbox (user_id, org_id, source_id, kind,"
    " items, state, created_at)"
    " SELECT mb.user_id, ?2, ?1, 'backfill', ?3, 'pending', ?4"
    " FROM memberships mb JOIN users u ON u.id = mb.user_id"
    " WHERE mb.org_id = ?2 AND mb.notify <> 'none' AND u.disabled = 0"
    " AND NOT EXISTS (SELECT 1 FROM notification_outbox n"
    "  WHERE n.source_id = ?1 AND n.user_id = mb.user_id"
    "  AND n.org_id = ?2 AND n.kind = 'backfill' AND n.state = 'pending')";
static const char ingest_sql_backfill_done[] =
    "UPDATE sources SET backfill_done_at = ?2"
    " WHERE id = ?1 AND backfill_done_at IS NULL";
static const char ingest_sql_cursor[] =
    "UPDATE sources SET cursor = ?2 WHERE id = ?1";
static const char ingest_sql_healthy[] =
    "UPDATE sources SET last_ok = ?2, failures = 0, last_error = NULL,"
    " last_error_code = 0 WHERE id = ?1";

static int
ingest_fail(struct ingest_ctx *c, const char *ext, const char *why)
{
	if (ext != NULL)
		snprintf(c->err, c->errlen, "item '%s': %s", ext, why);
	else
		snprintf(c->err, c->errlen, "%s", why);
	return -1;
}

static int
ingest_db_fail(struct ingest_ctx *c, const char *ext)
{
	return ingest_fail(c, ext, store_errmsg(c->s));
}

/* Runs a statement that returns no row; resets it either way. */
static int
ingest_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
ingest_hash_field(EVP_MD_CTX *md, const char *s)
{
	unsigned char len[9] = { 0 };
	uint64_t n = s != NULL ? strlen(s) : 0;
	int i;

	/* Length-prefixed, and NULL told from "", so no two differ alike. */
	len[0] = s != NULL;
	for (i = 0; i < 8; i++)
		len[1 + i] = (unsigned char)(n >> (8 * i));
	EVP_DigestUpdate(md, len, sizeof(len));
	if (n > 0)
		EVP_DigestUpdate(md, s, n);
}

/*
 * What an edit at the channel can change. Times are left out: a
 * channel that bumps its updated time without changing a word has not
 * edited anything a reader would see.
 */
static int
ingest_hash(struct ingest_ctx *c, struct ingest_msg *m)
{
	static const enum ingest_text parts[] = { IT_PARENT, IT_AUTHOR,
	    IT_HANDLE, IT_TITLE, IT_BODY, IT_URL, IT_STATUS };
	char rating[4];
	unsigned int len = 0;
	size_t i;

	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return -1;
	ingest_hash_field(c->md, m->dir);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		ingest_hash_field(c->md, m->t[parts[i]]);
	snprintf(rating, sizeof(rating), "%d", m->rating);
	ingest_hash_field(c->md, rating);
	/* Only when set: hashes stored before these fields stay valid. */
	if (m->t[IT_META] != NULL)
		ingest_hash_field(c->md, m->t[IT_META]);
	if (m->t[IT_THREAD_STATUS] != NULL)
		ingest_hash_field(c->md, m->t[IT_THREAD_STATUS]);
	if (EVP_DigestFinal_ex(c->md, m->hash, &len) != 1 ||
	    len != INGEST_HASH_LEN)
		return -1;
	return 0;
}

static void
ingest_msg_free(struct ingest_msg *m)
{
	int i;

	for (i = 0; i < IT_NTEXT; i++)
		free(m->own[i]);
}

static int
ingest_msg_make(struct ingest_ctx *c, const struct conn_item *it,
    struct ingest_msg *m)
{
	const char *in[IT_NTEXT] = {
		[IT_EXT] = it->external_id, [IT_KEY] = it->thread_key,
		[IT_PARENT] = it->parent_id, [IT_AUTHOR] = it->author_name,
		[IT_HANDLE] = it->author_handle, [IT_TITLE] = it->title,
		[IT_BODY] = it->body, [IT_URL] = it->url,
		[IT_STATUS] = it->channel_status, [IT_META] = it->meta,
		[IT_THREAD_STATUS] = it->thread_status,
		[IT_REF] = it->reference,
	};
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < IT_NTEXT; i++) {
		m->own[i] = jsonout_utf8_repair(in[i]);
		m->t[i] = m->own[i] != NULL ? m->own[i] : in[i];
	}
	/* No key: the item is a conversation of its own. */
	if (m->t[IT_KEY] == NULL || *m->t[IT_KEY] == '\0')
		m->t[IT_KEY] = m->t[IT_EXT];
	if (m->t[IT_BODY] == NULL)
		m->t[IT_BODY] = "";
	m->dir = it->dir == ITEM_OUT ? "out" : "in";
	if (it->rating != ITEM_NO_RATING && (it->rating < 1 ||
	    it->rating > 5))
		return ingest_fail(c, m->t[IT_EXT], "rating out of 1..5");
	m->rating = it->rating == ITEM_NO_RATING ? 0 : it->rating;
	m->created = it->created_at > 0 ? it->created_at : c->now;
	m->updated = it->updated_at > 0 ? it->updated_at : m->created;
	if (ingest_hash(c, m) == -1)
		return ingest_fail(c, m->t[IT_EXT], "SHA-256 failed");
	return 0;
}

/* Drops a UTF-8 sequence cut short at the end of out[0..o). */
static size_t
ingest_utf8_trim(const char *out, size_t o)
{
	const unsigned char *u = (const unsigned char *)out;
	size_t k, need;

	if (o == 0)
		return 0;
	for (k = o - 1; k > 0 && (u[k] & 0xc0) == 0x80; k--)
		;
	need = u[k] >= 0xf0 ? 4 : u[k] >= 0xe0 ? 3 : u[k] >= 0xc0 ? 2 : 1;
	return k + need > o ? k : o;
}

/*
 * The title, else the body's first words on one line, cut at a space
 * (or a character boundary) and marked with an ellipsis. Owned.
 */
static char *
ingest_subject(const struct ingest_msg *m)
{
	static const char ws[] = " \t\r\n\f\v";
	const char *p = m->t[IT_TITLE];
	size_t o = 0, last_space = 0;
	char *out = xmalloc(INGEST_SUBJECT_MAX + 4);

	if (p == NULL || p[strspn(p, ws)] == '\0')
		p = m->t[IT_BODY];
	for (p += strspn(p, ws); *p != '\0' && o < INGEST_SUBJECT_MAX; p++) {
		if (strchr(ws, *p) == NULL) {
			out[o++] = *p;
			continue;
		}
		p += strspn(p, ws) - 1;
		if (p[1] != '\0' && o < INGEST_SUBJECT_MAX) {
			last_space = o;
			out[o++] = ' ';
		}
	}
	if (p[strspn(p, ws)] != '\0') {
		o = last_space > 0 ? last_space : ingest_utf8_trim(out, o);
		memcpy(out + o, "\xe2\x80\xa6", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/*
 * A public reference a patient can read out on the phone: "H-" and
 * six Crockford base32 digits (no I, L, O or U), 2^30 codes.
 */
static int
ingest_reference(char out[9])
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char r[6];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	out[0] = 'H';
	out[1] = '-';
	for (i = 0; i < sizeof(r); i++)
		out[2 + i] = digits[r[i] & 31];	/* 256 % 32 == 0: unbiased */
	out[8] = '\0';
	return 0;
}

/* A fresh reference; a collision (one in a billion) draws again. */
static int
ingest_fresh_reference(struct ingest_ctx *c, char out[9])
{
	sqlite3_stmt *q;
	int i, rc;

	if ((q = store_stmt(c->s, ingest_sql_ref_used)) == NULL)
		return -1;
	for (i = 0; i < INGEST_REF_TRIES; i++) {
		if (ingest_reference(out) == -1)
			return -1;
		store_bind_text(q, 1, out);
		rc = sqlite3_step(q);
		sqlite3_reset(q);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return -1;
	}
	return -1;
}

static int64_t
ingest_thread_new(struct ingest_ctx *c, const struct ingest_msg *m)
{
	char ref[9], *subject;
	sqlite3_stmt *q;
	int rc;

	if (ingest_fresh_reference(c, ref) == -1 ||
	    (q = store_stmt(c->s, ingest_sql_thread_new)) == NULL)
		return -1;
	subject = ingest_subject(m);
	sqlite3_bind_int64(q, 1, m->org);
	sqlite3_bind_int64(q, 2, c->src->id);
	store_bind_text(q, 3, c->src->connector);
	store_bind_text(q, 4, m->t[IT_KEY]);
	store_bind_text(q, 5, ref);
	store_bind_text(q, 6, subject);
	sqlite3_bind_int64(q, 7, m->created);
	sqlite3_bind_int64(q, 8, c->now);
	rc = ingest_done(q);
	free(subject);
	if (rc == -1)
		return -1;
	c->st.new_threads++;
	return sqlite3_last_insert_rowid(store_db(c->s));
}

/* The thread whose (org, connector, value) row sql finds; 0 none. */
static int64_t
ingest_thread_by(struct ingest_ctx *c, const char *sql,
    const struct ingest_msg *m, const char *value)
{
	sqlite3_stmt *q;
	int64_t id = 0;
	int rc;

	if ((q = store_stmt(c->s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, m->org);
	store_bind_text(q, 2, c->src->connector);
	store_bind_text(q, 3, value);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return id;
}

/*
 * The thread the item's key names for its organisation; else, when
 * the message it answers is stored there, that message's thread (a
 * comment under a patient's own Facebook post, an answer to a reply
 * heard posted), so a conversation is not split by the channel's
 * keys; else a new one.
 */
static int64_t
ingest_thread(struct ingest_ctx *c, const struct ingest_msg *m)
{
	int64_t id;

	id = ingest_thread_by(c, ingest_sql_thread, m, m->t[IT_KEY]);
	if (id == 0 && m->t[IT_PARENT] != NULL)
		id = ingest_thread_by(c, ingest_sql_parent_thread, m,
		    m->t[IT_PARENT]);
	return id != 0 ? id : ingest_thread_new(c, m);
}

static void
ingest_bind_content(sqlite3_stmt *q, int first, const struct ingest_msg *m)
{
	static const enum ingest_text order[] = { IT_PARENT, IT_AUTHOR,
	    IT_HANDLE, IT_TITLE, IT_BODY, IT_URL };
	size_t i;

	store_bind_text(q, first, m->dir);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		store_bind_text(q, first + 1 + (int)i, m->t[order[i]]);
	if (m->rating > 0)
		sqlite3_bind_int(q, first + 7, m->rating);
	store_bind_text(q, first + 8, m->t[IT_STATUS]);
}

static int
ingest_touch(struct ingest_ctx *c, int64_t thread,
    const struct ingest_msg *m)
{
	sqlite3_stmt *q;
	char *subject;
	int rc;

	if ((q = store_stmt(c->s, ingest_sql_touch)) == NULL)
		return -1;
	subject = ingest_subject(m);
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, m->created);
	store_bind_text(q, 3, m->dir);
	store_bind_text(q, 4, subject);
	sqlite3_bind_int64(q, 5, c->now);
	store_bind_text(q, 6, m->t[IT_REF]);
	rc = ingest_done(q);
	free(subject);
	return rc;
}

static int
ingest_new(struct ingest_ctx *c, const struct ingest_msg *m,
    struct ingest_row *row)
{
	sqlite3_stmt *q;
	int64_t thread;

	if ((thread = ingest_thread(c, m)) == -1 ||
	    (q = store_stmt(c->s, ingest_sql_insert)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, m->org);
	sqlite3_bind_int64(q, 3, c->src->id);
	store_bind_text(q, 4, c->src->connector);
	store_bind_text(q, 5, m->t[IT_EXT]);
	ingest_bind_content(q, 6, m);
	sqlite3_bind_int64(q, 15, m->created);
	sqlite3_bind_int64(q, 16, m->updated);
	sqlite3_bind_int64(q, 17, c->now);
	sqlite3_bind_blob(q, 18, m->hash, INGEST_HASH_LEN, SQLITE_STATIC);
	store_bind_text(q, 19, m->t[IT_META]);
	if (ingest_done(q) == -1)
		return -1;
	row->id = sqlite3_last_insert_rowid(store_db(c->s));
	row->thread = thread;
	row->added = row->written = 1;
	if (ingest_touch(c, thread, m) == -1)
		return -1;
	c->st.new_items++;
	return 0;
}

/* A message seen before: removed, edited, or as it was. */
static int
ingest_seen(struct ingest_ctx *c, const struct conn_item *it,
    const struct ingest_msg *m, struct ingest_row *row)
{
	sqlite3_stmt *q;

	if ((it->removed && row->removed) || (!it->removed && !row->changed)) {
		c->st.unchanged_items++;
		return 0;
	}
	if (it->removed) {
		/* Kept and hidden, never deleted: staff may need it. */
		if ((q = store_stmt(c->s, ingest_sql_removed)) == NULL)
			return -1;
		sqlite3_bind_int64(q, 1, row->id);
		sqlite3_bind_int64(q, 2, c->now);
	} else {
		if ((q = store_stmt(c->s, ingest_sql_edit)) == NULL)
			return -1;
		sqlite3_bind_int64(q, 1, row->id);
		ingest_bind_content(q, 2, m);
		sqlite3_bind_int64(q, 11, it->updated_at > 0 ?
		    it->updated_at : c->now);
		sqlite3_bind_blob(q, 12, m->hash, INGEST_HASH_LEN,
		    SQLITE_STATIC);
		store_bind_text(q, 13, m->t[IT_META]);
	}
	if (ingest_done(q) == -1)
		return -1;
	row->written = 1;
	c->st.updated_items++;
	return 0;
}

/* 1 and row filled if the message is known, 0 if not, -1. */
static int
ingest_find(struct ingest_ctx *c, const struct ingest_msg *m,
    struct ingest_row *row)
{
	sqlite3_stmt *q;
	const void *h;
	int rc;

	if ((q = store_stmt(c->s, ingest_sql_find)) == NULL)
		return -1;
	store_bind_text(q, 1, c->src->connector);
	store_bind_text(q, 2, m->t[IT_EXT]);
	sqlite3_bind_int64(q, 3, m->org);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		row->id = sqlite3_column_int64(q, 0);
		h = sqlite3_column_blob(q, 1);
		row->changed = sqlite3_column_bytes(q, 1) != INGEST_HASH_LEN ||
		    memcmp(h, m->hash, INGEST_HASH_LEN) != 0;
		row->removed = sqlite3_column_type(q, 2) != SQLITE_NULL;
		row->thread = sqlite3_column_int64(q, 3);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The source's organisation, or the one the hint names; 0 unknown. */
static int64_t
ingest_org(struct ingest_ctx *c, const struct conn_item *it)
{
	int64_t id;

	if (it->org_hint == NULL || *it->org_hint == '\0')
		return c->src->org_id;
	id = orgs_filing_id(c->s, it->org_hint);
	return id > 0 ? id : 0;
}

static int
ingest_status_ok(const char *status)
{
	static const char *const ok[] = { "new", "open", "in_progress",
	    "resolved", "closed", "hidden" };
	size_t i;

	for (i = 0; status != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(ok[i], status) == 0)
			return 1;
	return 0;
}

/*
 * What a written item does to its thread: the channel's status for
 * it, and an organisation's reply newly seen on the channel closes
 * the "post this" task it answers. A word that is not a status is
 * dropped rather than failing the batch over it.
 */
static int
ingest_thread_after(struct ingest_ctx *c, const struct ingest_msg *m,
    const struct ingest_row *row)
{
	sqlite3_stmt *q;

	if (ingest_status_ok(m->t[IT_THREAD_STATUS])) {
		if ((q = store_stmt(c->s, ingest_sql_status)) == NULL)
			return -1;
		sqlite3_bind_int64(q, 1, row->thread);
		store_bind_text(q, 2, m->t[IT_THREAD_STATUS]);
		sqlite3_bind_int64(q, 3, c->now);
		if (ingest_done(q) == -1)
			return -1;
	}
	if (row->added && strcmp(m->dir, "out") == 0 &&
	    tasks_close_seen(c->s, row->thread, row->id, m->created,
	    c->now) == -1)
		return -1;
	return 0;
}

/* One more story of a first poll, for its organisation's summary. */
static void
ingest_backfill_count(struct ingest_ctx *c, int64_t org)
{
	size_t i;

	for (i = 0; i < c->nbf; i++) {
		if (c->bf[i].org == org) {
			c->bf[i].items++;
			return;
		}
	}
	c->bf = xrealloc(c->bf, (c->nbf + 1) * sizeof(*c->bf));
	c->bf[c->nbf].org = org;
	c->bf[c->nbf++].items = 1;
}

/* A new message from the public: mails for those who want them. */
static int
ingest_notify(struct ingest_ctx *c, const struct ingest_msg *m,
    const struct ingest_row *row)
{
	sqlite3_stmt *q;

	if (strcmp(m->dir, "in") != 0)
		return 0;
	if (c->backfill) {
		ingest_backfill_count(c, m->org);
		return 0;
	}
	if ((q = store_stmt(c->s, ingest_sql_notify)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, m->org);
	sqlite3_bind_int64(q, 2, row->thread);
	sqlite3_bind_int64(q, 3, row->id);
	sqlite3_bind_int64(q, 4, c->src->id);
	sqlite3_bind_int64(q, 5, c->now);
	return ingest_done(q);
}

static int
ingest_item(struct ingest_ctx *c, const struct conn_item *it)
{
	struct ingest_row row;
	struct ingest_msg m;
	int64_t org;
	int found, rc;

	org = ingest_org(c, it);
	if (it->external_id == NULL || *it->external_id == '\0' || org <= 0) {
		c->st.skipped++;
		return 0;
	}
	if (ingest_msg_make(c, it, &m) == -1) {
		ingest_msg_free(&m);
		return -1;
	}
	m.org = org;
	memset(&row, 0, sizeof(row));
	found = ingest_find(c, &m, &row);
	if (found == 1)
		rc = ingest_seen(c, it, &m, &row);
	else if (found == 0 && it->removed) {
		/* Taken down before we saw it: nothing to keep. */
		c->st.skipped++;
		rc = 0;
	} else
		rc = found == 0 ? ingest_new(c, &m, &row) : -1;
	if (rc == 0 && row.written)
		rc = ingest_thread_after(c, &m, &row);
	if (rc == 0 && row.added)
		rc = ingest_notify(c, &m, &row);
	if (rc == -1 && c->err[0] == '\0')
		ingest_db_fail(c, m.t[IT_EXT]);
	ingest_msg_free(&m);
	return rc;
}

/* The cursor, and the source's health, in the batch's transaction. */
static int
ingest_source(struct ingest_ctx *c, const struct conn_batch *b)
{
	sqlite3_stmt *q;

	if (b->cursor != NULL) {
		if ((q = store_stmt(c->s, ingest_sql_cursor)) == NULL)
			return ingest_db_fail(c, NULL);
		sqlite3_bind_int64(q, 1, c->src->id);
		store_bind_text(q, 2, b->cursor);
		if (ingest_done(q) == -1) {
			snprintf(c->err, c->errlen, "cursor: %s",
			    store_errmsg(c->s));
			return -1;
		}
	}
	/* A delivery says nothing of whether polling works. */
	if (c->pushed)
		return 0;
	if ((q = store_stmt(c->s, ingest_sql_healthy)) == NULL)
		return ingest_db_fail(c, NULL);
	sqlite3_bind_int64(q, 1, c->src->id);
	sqlite3_bind_int64(q, 2, c->now);
	if (ingest_done(q) == -1)
		return ingest_db_fail(c, NULL);
	if (sqlite3_changes(store_db(c->s)) != 1)
		return ingest_fail(c, NULL, "no such source");
	return 0;
}

/* Whether the source is on its first poll, when all it sees is history. */
static int
ingest_backfill_state(struct ingest_ctx *c)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(c->s, ingest_sql_backfill)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, c->src->id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		c->backfill = sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The batch's history counts, one UPDATE and one INSERT per organisation. */
static int
ingest_backfill_flush(struct ingest_ctx *c)
{
	static const char *const sql[] = { ingest_sql_backfill_add,
	    ingest_sql_backfill_new };
	sqlite3_stmt *q;
	size_t i, k;

	for (i = 0; i < c->nbf; i++) {
		for (k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
			if ((q = store_stmt(c->s, sql[k])) == NULL)
				return -1;
			sqlite3_bind_int64(q, 1, c->src->id);
			sqlite3_bind_int64(q, 2, c->bf[i].org);
			sqlite3_bind_int64(q, 3, c->bf[i].items);
			if (k == 1)
				sqlite3_bind_int64(q, 4, c->now);
			if (ingest_done(q) == -1)
				return -1;
		}
	}
	return 0;
}

static int
ingest_all(struct ingest_ctx *c, const struct conn_batch *b)
{
	size_t i;

	/* A delivery is news as it happens, even during the first poll. */
	if (!c->pushed && ingest_backfill_state(c) == -1)
		return ingest_db_fail(c, NULL);
	for (i = 0; i < b->nitems; i++)
		if (ingest_item(c, &b->items[i]) == -1)
			return -1;
	if (ingest_backfill_flush(c) == -1)
		return ingest_db_fail(c, NULL);
	return ingest_source(c, b);
}

static int
ingest_run(struct ingest_ctx *cp, const struct conn_batch *b,
    struct ingest_stats *st)
{
	struct ingest_ctx c = *cp;
	struct store *s = c.s;
	char *err = c.err;
	size_t errlen = c.errlen;
	int rc;

	memset(st, 0, sizeof(*st));
	if (errlen > 0)
		err[0] = '\0';
	if ((c.md = EVP_MD_CTX_new()) == NULL)
		return ingest_fail(&c, NULL, "out of memory");
	if (store_begin(s) == -1) {
		EVP_MD_CTX_free(c.md);
		return ingest_db_fail(&c, NULL);
	}
	rc = ingest_all(&c, b);
	if (rc == 0 && store_commit(s) == -1)
		rc = ingest_db_fail(&c, NULL);
	if (rc == -1)
		store_rollback(s);
	else
		*st = c.st;
	EVP_MD_CTX_free(c.md);
	free(c.bf);
	return rc;
}

int
ingest_batch(struct store *s, const struct source *src,
    const struct conn_batch *b, int64_t now, struct ingest_stats *st,
    char *err, size_t errlen)
{
	struct ingest_ctx c = { .s = s, .src = src, .now = now, .err = err,
	    .errlen = errlen };

	return ingest_run(&c, b, st);
}

int
ingest_pushed(struct store *s, const struct source *src,
    const struct conn_batch *b, int64_t now, struct ingest_stats *st,
    char *err, size_t errlen)
{
	struct ingest_ctx c = { .s = s, .src = src, .now = now, .err = err,
	    .errlen = errlen, .pushed = 1 };

	if (b->cursor != NULL)
		return ingest_fail(&c, NULL, "a pushed batch has a cursor");
	return ingest_run(&c, b, st);
}

int
ingest_backfill_done(struct store *s, int64_t source_id, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, ingest_sql_backfill_done)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, source_id);
	sqlite3_bind_int64(q, 2, now);
	return ingest_done(q);
}

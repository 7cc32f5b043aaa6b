/* migrations: the schema as an ordered list of numbered steps. */
#include "migrations.h"

#include <stddef.h>

/*
 * Append only: a migration that has shipped is never edited, since
 * databases already at its version would not see the change. Times
 * are INTEGER unix seconds UTC; ODS dates are TEXT 'YYYY-MM-DD'.
 * Every foreign key's child column leads an index, so the checks
 * SQLite makes when a parent row is written never scan a table.
 *
 * Uniqueness keys, and why:
 * - threads: UNIQUE(org_id, connector, thread_key). A thread key is
 *   the channel's, so it is unique per connector; keying on the
 *   connector rather than source_id keeps a thread whole when its
 *   source is removed and added again, or when two sources of one
 *   channel (a national feed with org hints and a per-trust feed)
 *   see the same conversation. The connector is copied onto the row,
 *   since a source may be deleted while its threads are kept.
 * - messages: UNIQUE(connector, external_id, org_id). An external id
 *   is unique per connector, but a post that names two organisations
 *   must become a conversation in each, so the organisation is part
 *   of the key; (source_id, external_id) would file the same post
 *   twice for one organisation when two sources see it.
 */
static const char migrations_v1[] =
"CREATE TABLE organisations ("
"  id INTEGER PRIMARY KEY,"
"  code TEXT NOT NULL UNIQUE,"		/* ODS code, upper case */
"  name TEXT NOT NULL,"
"  type TEXT NOT NULL,"			/* trust, sub-icb, gp-practice... */
"  role TEXT,"				/* ODS role or setting, as given */
"  parent_code TEXT,"
"  icb_code TEXT,"
"  region_code TEXT,"
"  postcode TEXT,"
"  status TEXT,"			/* epraccur's status, lower case */
"  open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),"
"  open_date TEXT,"
"  close_date TEXT,"
"  source_file TEXT,"
"  updated_at INTEGER NOT NULL"
");"
"CREATE INDEX organisations_parent ON organisations(parent_code);"
"CREATE INDEX organisations_icb ON organisations(icb_code);"
/* Name search: words, prefixes, any case, in well under a millisecond. */
"CREATE VIRTUAL TABLE organisations_fts USING fts5(name,"
"  content='organisations', content_rowid='id',"
"  tokenize='unicode61 remove_diacritics 2');"
"CREATE TRIGGER organisations_ai AFTER INSERT ON organisations BEGIN"
"  INSERT INTO organisations_fts(rowid, name) VALUES (new.id, new.name);"
"END;"
"CREATE TRIGGER organisations_ad AFTER DELETE ON organisations BEGIN"
"  INSERT INTO organisations_fts(organisations_fts, rowid, name)"
"    VALUES ('delete', old.id, old.name);"
"END;"
"CREATE TRIGGER organisations_au AFTER UPDATE OF name ON organisations"
"  BEGIN"
"  INSERT INTO organisations_fts(organisations_fts, rowid, name)"
"    VALUES ('delete', old.id, old.name);"
"  INSERT INTO organisations_fts(rowid, name) VALUES (new.id, new.name);"
"END;"

"CREATE TABLE users ("
"  id INTEGER PRIMARY KEY,"
"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
"  name TEXT NOT NULL DEFAULT '',"
"  role TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'reviewer')),"
"  password_hash TEXT,"
"  created_at INTEGER NOT NULL,"
"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))"
");"

"CREATE TABLE memberships ("
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  notify TEXT NOT NULL DEFAULT 'each'"
"    CHECK (notify IN ('each', 'digest', 'none')),"
"  PRIMARY KEY (user_id, org_id)"
") WITHOUT ROWID;"
"CREATE INDEX memberships_org ON memberships(org_id);"

"CREATE TABLE sources ("
"  id INTEGER PRIMARY KEY,"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  connector TEXT NOT NULL,"
"  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),"
"  cursor TEXT CHECK (cursor IS NULL OR json_valid(cursor)),"
"  paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),"
"  last_ok INTEGER,"
"  last_error_at INTEGER,"
"  last_error TEXT,"
"  last_error_code INTEGER NOT NULL DEFAULT 0,"	/* enum conn_err */
"  failures INTEGER NOT NULL DEFAULT 0,"
"  next_poll INTEGER NOT NULL DEFAULT 0,"
"  created_at INTEGER NOT NULL"
");"
"CREATE INDEX sources_org ON sources(org_id);"
"CREATE INDEX sources_due ON sources(next_poll) WHERE paused = 0;"

"CREATE TABLE threads ("
"  id INTEGER PRIMARY KEY,"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,"
"  connector TEXT NOT NULL,"
"  thread_key TEXT NOT NULL,"
"  reference TEXT NOT NULL UNIQUE,"
"  subject TEXT NOT NULL DEFAULT '',"
"  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open',"
"    'in_progress', 'resolved', 'closed', 'hidden')),"
"  assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  first_at INTEGER NOT NULL,"
"  last_at INTEGER NOT NULL,"
"  first_response_at INTEGER,"
"  message_count INTEGER NOT NULL DEFAULT 0,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  UNIQUE (org_id, connector, thread_key)"
");"
/* One index per shape of the thread list; rowid (id) ends each. */
"CREATE INDEX threads_last ON threads(last_at);"
"CREATE INDEX threads_org_last ON threads(org_id, last_at);"
"CREATE INDEX threads_status_last ON threads(status, last_at);"
"CREATE INDEX threads_org_status_last ON threads(org_id, status, last_at);"
"CREATE INDEX threads_assignee ON threads(assignee_id, last_at);"
"CREATE INDEX threads_source ON threads(source_id);"

"CREATE TABLE messages ("
"  id INTEGER PRIMARY KEY,"
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,"
"  connector TEXT NOT NULL,"
"  external_id TEXT NOT NULL,"
"  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
"  parent_external_id TEXT,"
"  author_name TEXT,"
"  author_handle TEXT,"
"  title TEXT,"
"  body TEXT NOT NULL DEFAULT '',"
"  url TEXT,"
"  rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),"
"  channel_status TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  first_seen_at INTEGER NOT NULL,"
"  hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),"
"  hidden_reason TEXT,"
"  removed_at_source INTEGER,"
"  content_hash BLOB NOT NULL,"		/* SHA-256 of the content */
"  UNIQUE (connector, external_id, org_id)"
");"
"CREATE INDEX messages_thread ON messages(thread_id, created_at);"
"CREATE INDEX messages_source ON messages(source_id);"
"CREATE INDEX messages_org ON messages(org_id, created_at);"
"CREATE VIRTUAL TABLE messages_fts USING fts5(title, body,"
"  content='messages', content_rowid='id',"
"  tokenize='unicode61 remove_diacritics 2');"
"CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
"  INSERT INTO messages_fts(rowid, title, body)"
"    VALUES (new.id, new.title, new.body);"
"END;"
"CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
"  INSERT INTO messages_fts(messages_fts, rowid, title, body)"
"    VALUES ('delete', old.id, old.title, old.body);"
"END;"
"CREATE TRIGGER messages_au AFTER UPDATE OF title, body ON messages BEGIN"
"  INSERT INTO messages_fts(messages_fts, rowid, title, body)"
"    VALUES ('delete', old.id, old.title, old.body);"
"  INSERT INTO messages_fts(rowid, title, body)"
"    VALUES (new.id, new.title, new.body);"
"END;"

"CREATE TABLE reads ("
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  read_at INTEGER NOT NULL,"
"  PRIMARY KEY (thread_id, user_id)"
") WITHOUT ROWID;"
"CREATE INDEX reads_user ON reads(user_id, thread_id);"

"CREATE TABLE notification_outbox ("
"  id INTEGER PRIMARY KEY,"
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  message_id INTEGER REFERENCES messages(id),"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  kind TEXT NOT NULL,"		/* new_message, assigned, reply_failed... */
"  created_at INTEGER NOT NULL,"
"  sent_at INTEGER,"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_attempt_at INTEGER NOT NULL,"
"  last_error TEXT,"
"  UNIQUE (user_id, message_id, kind)"
");"
"CREATE INDEX notification_outbox_due"
"  ON notification_outbox(next_attempt_at) WHERE sent_at IS NULL;"
"CREATE INDEX notification_outbox_thread ON notification_outbox(thread_id);"
"CREATE INDEX notification_outbox_message"
"  ON notification_outbox(message_id);"

"CREATE TABLE reply_outbox ("
"  id INTEGER PRIMARY KEY,"
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  in_reply_to INTEGER REFERENCES messages(id),"
"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  body TEXT NOT NULL,"
"  via TEXT NOT NULL CHECK (via IN ('web', 'api', 'email', 'cli')),"
"  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued',"
"    'posting', 'posted', 'failed', 'handoff')),"
"  idempotency_key TEXT NOT NULL UNIQUE,"
"  external_id TEXT,"		/* the channel's id for the posted reply */
"  error TEXT,"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_attempt_at INTEGER,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL"
");"
"CREATE INDEX reply_outbox_due ON reply_outbox(status, next_attempt_at);"
"CREATE INDEX reply_outbox_thread ON reply_outbox(thread_id);"
"CREATE INDEX reply_outbox_message ON reply_outbox(in_reply_to);"
"CREATE INDEX reply_outbox_user ON reply_outbox(user_id);"

"CREATE TABLE tasks ("
"  id INTEGER PRIMARY KEY,"
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  reply_id INTEGER REFERENCES reply_outbox(id),"
"  text TEXT NOT NULL,"
"  url TEXT,"
"  created_at INTEGER NOT NULL,"
"  closed_at INTEGER,"
"  closed_by_message_id INTEGER REFERENCES messages(id)"
");"
"CREATE INDEX tasks_thread ON tasks(thread_id, closed_at);"
"CREATE INDEX tasks_reply ON tasks(reply_id);"
"CREATE INDEX tasks_message ON tasks(closed_by_message_id);"

"CREATE TABLE audit_log ("
"  id INTEGER PRIMARY KEY,"
"  at INTEGER NOT NULL,"
/* user_id NULL: done by heard itself */
"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  action TEXT NOT NULL,"
"  object TEXT NOT NULL,"		/* "thread:12", "source:3" */
"  detail TEXT CHECK (detail IS NULL OR json_valid(detail))"
");"
"CREATE INDEX audit_log_object ON audit_log(object, at);"
"CREATE INDEX audit_log_at ON audit_log(at);"
"CREATE INDEX audit_log_user ON audit_log(user_id, at);";

/*
 * 2: replies through the loop, and what channels add to items.
 * - messages.meta: the connector's JSON object of channel extras.
 * - reply_outbox gains 'unknown' (a post cut short by a stop: it may or
 *   may not be on the channel, so it is never sent again blindly) and
 *   'cancelled', the author's name as signed, the message the posted
 *   reply became, and when it was posted. SQLite cannot alter a CHECK,
 *   so the table is copied into a new one of the same name; tasks keep
 *   pointing at it by name. Dropping the old table counts the tasks
 *   that pointed at its rows as deferred foreign key violations, and
 *   copying the rows back settles them, before COMMIT checks.
 */
static const char migrations_v2[] =
"ALTER TABLE messages ADD COLUMN meta TEXT"
"  CHECK (meta IS NULL OR json_valid(meta));"

"PRAGMA defer_foreign_keys = ON;"
"CREATE TEMP TABLE reply_outbox_v1 AS SELECT * FROM reply_outbox;"
"DROP TABLE reply_outbox;"
"CREATE TABLE reply_outbox ("
"  id INTEGER PRIMARY KEY,"
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
/* the message answered: the thread's latest from the public */
"  in_reply_to INTEGER REFERENCES messages(id),"
"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  author TEXT,"			/* name it is signed with */
"  body TEXT NOT NULL,"
"  via TEXT NOT NULL CHECK (via IN ('web', 'api', 'email', 'cli')),"
"  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued',"
"    'posting', 'posted', 'failed', 'handoff', 'unknown', 'cancelled')),"
"  idempotency_key TEXT NOT NULL UNIQUE,"
"  external_id TEXT,"		/* the channel's id for the posted reply */
"  message_id INTEGER REFERENCES messages(id),"	/* it, in the thread */
"  error TEXT,"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_attempt_at INTEGER,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  posted_at INTEGER"
");"
"INSERT INTO reply_outbox (id, thread_id, in_reply_to, user_id, body,"
"  via, status, idempotency_key, external_id, error, attempts,"
"  next_attempt_at, created_at, updated_at)"
"  SELECT id, thread_id, in_reply_to, user_id, body, via, status,"
"  idempotency_key, external_id, error, attempts, next_attempt_at,"
"  created_at, updated_at FROM reply_outbox_v1;"
"DROP TABLE temp.reply_outbox_v1;"
"CREATE INDEX reply_outbox_due ON reply_outbox(status, next_attempt_at);"
"CREATE INDEX reply_outbox_thread ON reply_outbox(thread_id, status);"
"CREATE INDEX reply_outbox_message ON reply_outbox(in_reply_to);"
"CREATE INDEX reply_outbox_user ON reply_outbox(user_id);"
"CREATE INDEX reply_outbox_posted ON reply_outbox(message_id);";

/*
 * 3: the channel's own public reference for a thread (an Open311
 * service request id), shown beside heard's H- code and accepted by
 * `heard thread`. Not unique: two servers may both have a request 7.
 */
static const char migrations_v3[] =
"ALTER TABLE threads ADD COLUMN channel_ref TEXT;"
"CREATE INDEX threads_channel_ref ON threads(channel_ref);";

/*
 * 4: the mail loop and the web inbox.
 * - memberships.notify: each user chooses per organisation: a mail for
 *   every new conversation, for every new message, a daily digest, or
 *   nothing. 'each' of v1 meant every message. Rebuilt for the CHECK.
 * - notification_outbox: what happened that a user should hear of,
 *   written in the transaction that stored it; never used before v4,
 *   so it is dropped and made anew. The mailer's composer turns
 *   pending rows into mails (or into a digest, past the hourly cap).
 *   'backfill' rows count the items of a new source's first poll, one
 *   row per user and source, so history becomes one summary mail.
 * - sources.backfill_done_at: when the first whole poll ended; until
 *   then what a source brings is history. Existing sources are done.
 * - mails: every mail heard sends, built whole (RFC 5322, CRLF), with
 *   its Message-ID, so a restart resends exactly what was built, and a
 *   thread's later mails can name the earlier ones in References.
 * - mail_in: every mail that came in, once per Message-ID, with what
 *   was done with it and why, so a mail read twice (IMAP after a
 *   crash, or both IMAP and the MTA pipe) is relayed once.
 * - imap_state: per mailbox, UIDVALIDITY and the last UID done.
 * - reply_outbox.confirmed_at: the author of an emailed reply was told
 *   how it went.
 * - the web: sessions and API tokens (only hashes stored), invitations,
 *   tags, severity, the reason a thread was hidden.
 */
static const char migrations_v4[] =
"PRAGMA defer_foreign_keys = ON;"
"CREATE TEMP TABLE memberships_v1 AS SELECT * FROM memberships;"
"DROP TABLE memberships;"
"CREATE TABLE memberships ("
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  notify TEXT NOT NULL DEFAULT 'conversation' CHECK (notify IN"
"    ('conversation', 'message', 'digest', 'none')),"
"  PRIMARY KEY (user_id, org_id)"
") WITHOUT ROWID;"
"INSERT INTO memberships (user_id, org_id, notify)"
"  SELECT user_id, org_id, CASE notify WHEN 'each' THEN 'message'"
"  ELSE notify END FROM memberships_v1;"
"DROP TABLE temp.memberships_v1;"
"CREATE INDEX memberships_org ON memberships(org_id);"

"ALTER TABLE users ADD COLUMN invited_at INTEGER;"
"ALTER TABLE users ADD COLUMN last_login_at INTEGER;"

"ALTER TABLE sources ADD COLUMN backfill_done_at INTEGER;"
"UPDATE sources SET backfill_done_at = last_ok WHERE last_ok IS NOT NULL;"

"CREATE TABLE mails ("
"  id INTEGER PRIMARY KEY,"
"  kind TEXT NOT NULL CHECK (kind IN ('notification', 'digest',"
"    'backfill', 'refusal', 'confirmation', 'invitation', 'alert')),"
"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  thread_id INTEGER REFERENCES threads(id),"
"  rcpt TEXT NOT NULL,"			/* envelope recipient */
"  message_id TEXT NOT NULL UNIQUE,"	/* without <> */
"  subject TEXT NOT NULL,"
"  body BLOB NOT NULL,"			/* the whole message, CRLF */
"  status TEXT NOT NULL DEFAULT 'queued'"
"    CHECK (status IN ('queued', 'sent', 'failed')),"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_attempt_at INTEGER NOT NULL,"
"  last_error TEXT,"
"  created_at INTEGER NOT NULL,"
"  sent_at INTEGER"
");"
"CREATE INDEX mails_due ON mails(next_attempt_at) WHERE status = 'queued';"
"CREATE INDEX mails_thread_user ON mails(thread_id, user_id, id);"
"CREATE INDEX mails_user_created ON mails(user_id, created_at);"
"CREATE INDEX mails_rcpt_created ON mails(rcpt, created_at);"

"DROP TABLE notification_outbox;"
"CREATE TABLE notification_outbox ("
"  id INTEGER PRIMARY KEY,"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  org_id INTEGER NOT NULL REFERENCES organisations(id),"
"  thread_id INTEGER REFERENCES threads(id),"
"  message_id INTEGER REFERENCES messages(id),"
"  source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,"
"  kind TEXT NOT NULL"
"    CHECK (kind IN ('new_thread', 'new_message', 'backfill')),"
"  items INTEGER NOT NULL DEFAULT 1,"	/* backfill: items it stands for */
"  state TEXT NOT NULL DEFAULT 'pending'"
"    CHECK (state IN ('pending', 'digest', 'mailed', 'dropped')),"
"  mail_id INTEGER REFERENCES mails(id),"
"  created_at INTEGER NOT NULL,"
"  UNIQUE (user_id, message_id, kind)"
");"
"CREATE INDEX notification_outbox_open ON notification_outbox(state,"
"  user_id) WHERE state IN ('pending', 'digest');"
"CREATE INDEX notification_outbox_source ON notification_outbox(source_id,"
"  user_id, kind, state);"
"CREATE INDEX notification_outbox_org ON notification_outbox(org_id);"
"CREATE INDEX notification_outbox_thread ON notification_outbox(thread_id);"
"CREATE INDEX notification_outbox_message"
"  ON notification_outbox(message_id);"
"CREATE INDEX notification_outbox_mail ON notification_outbox(mail_id);"

"CREATE TABLE mail_in ("
"  id INTEGER PRIMARY KEY,"
"  message_id TEXT,"			/* without <>; sha256-<hex>@heard.invalid
					   if it had none (mail_accept.h) */
"  via TEXT NOT NULL CHECK (via IN ('imap', 'pipe')),"
"  sender TEXT,"			/* From's address */
"  thread_id INTEGER REFERENCES threads(id),"
"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  outcome TEXT NOT NULL"
"    CHECK (outcome IN ('accepted', 'refused', 'dropped')),"
"  reason TEXT,"			/* why refused or dropped */
"  reply_id INTEGER REFERENCES reply_outbox(id),"
"  received_at INTEGER NOT NULL"
");"
"CREATE UNIQUE INDEX mail_in_message ON mail_in(message_id)"
"  WHERE message_id IS NOT NULL;"
"CREATE INDEX mail_in_thread ON mail_in(thread_id);"
"CREATE INDEX mail_in_user ON mail_in(user_id);"
"CREATE INDEX mail_in_reply ON mail_in(reply_id);"
"CREATE INDEX mail_in_sender ON mail_in(sender, received_at);"

"CREATE TABLE imap_state ("
"  mailbox TEXT PRIMARY KEY,"		/* URL without credentials */
"  uidvalidity INTEGER NOT NULL,"
"  last_uid INTEGER NOT NULL DEFAULT 0,"
"  updated_at INTEGER NOT NULL"
") WITHOUT ROWID;"

"ALTER TABLE reply_outbox ADD COLUMN confirmed_at INTEGER;"
"CREATE INDEX reply_outbox_confirm ON reply_outbox(status)"
"  WHERE via = 'email' AND confirmed_at IS NULL;"

"CREATE TABLE sessions ("
"  id_hash TEXT PRIMARY KEY,"		/* SHA-256 hex of the cookie */
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  csrf TEXT NOT NULL,"
"  created_at INTEGER NOT NULL,"
"  last_seen_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL"
") WITHOUT ROWID;"
"CREATE INDEX sessions_user ON sessions(user_id);"
"CREATE INDEX sessions_expires ON sessions(expires_at);"

"CREATE TABLE api_tokens ("
"  id INTEGER PRIMARY KEY,"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  name TEXT NOT NULL,"
"  token_hash TEXT NOT NULL UNIQUE,"	/* SHA-256 hex */
"  created_at INTEGER NOT NULL,"
"  last_used_at INTEGER,"
"  revoked_at INTEGER"
");"
"CREATE INDEX api_tokens_user ON api_tokens(user_id);"

"CREATE TABLE invitations ("
"  token_hash TEXT PRIMARY KEY,"	/* SHA-256 hex */
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  used_at INTEGER"
") WITHOUT ROWID;"
"CREATE INDEX invitations_user ON invitations(user_id);"
"CREATE INDEX invitations_by ON invitations(invited_by);"

"CREATE TABLE thread_tags ("
"  thread_id INTEGER NOT NULL REFERENCES threads(id),"
"  tag TEXT NOT NULL,"
"  PRIMARY KEY (thread_id, tag)"
") WITHOUT ROWID;"
"CREATE INDEX thread_tags_tag ON thread_tags(tag, thread_id);"

"ALTER TABLE threads ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal'"
"  CHECK (severity IN ('low', 'normal', 'high', 'urgent'));"
"ALTER TABLE threads ADD COLUMN hidden_reason TEXT;"
/* the status to go back to when a hidden thread is shown again */
"ALTER TABLE threads ADD COLUMN status_before_hide TEXT;"
"CREATE INDEX threads_org_severity_last"
"  ON threads(org_id, severity, last_at);"
/* The web's counts per organisation and channel, from the index alone. */
"CREATE INDEX threads_org_connector_status"
"  ON threads(org_id, connector, status);"
/* The median first response over everything, walked in order. */
"CREATE INDEX threads_response ON threads(first_response_at - first_at)"
"  WHERE first_response_at IS NOT NULL;";

static const char *const migrations[] = {
	migrations_v1,
	migrations_v2,
	migrations_v3,
	migrations_v4,
};

int
migrations_count(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *
migrations_sql(int n)
{
	if (n < 1 || n > migrations_count())
		return NULL;
	return migrations[n - 1];
}

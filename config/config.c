/* config: heard's settings, their defaults and the INI file that sets them. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "log.h"
#include "xmalloc.h"

enum opt_type {
	OPT_STR,
	OPT_LONG,	/* plain number */
	OPT_SECS,	/* number with s, m, h or d */
	OPT_BYTES,	/* number with K, M or G */
	OPT_BOOL,
	OPT_LEVEL,	/* warn, info, debug */
};

struct opt {
	const char	*section;
	const char	*key;
	enum opt_type	 type;
	size_t		 off;
	long		 min;
	long		 max;
	const char	*help;
};

#define F(f)	offsetof(struct config, f)

/* Every option, in the order `config_print` shows them. */
static const struct opt opts[] = {
	{ "store", "path", OPT_STR, F(db_path), 0, 0,
	    "SQLite database file (WAL mode)" },
	{ "http", "listen", OPT_STR, F(listen), 0, 0,
	    "address:port of the web inbox and API" },
	{ "http", "base_url", OPT_STR, F(base_url), 0, 0,
	    "URL staff use to open the web inbox (for links in mail)" },
	{ "http", "web_root", OPT_STR, F(web_root), 0, 0,
	    "folder of the web inbox's files (default: the shipped web/)" },
	{ "http", "max_body", OPT_BYTES, F(http_max_body), 1024, 64L << 20,
	    "largest request body accepted" },
	{ "http", "session_ttl", OPT_SECS, F(session_ttl), 60, 90 * 86400,
	    "how long a log-in lasts without use" },
	{ "http", "cookie_secure", OPT_BOOL, F(cookie_secure), 0, 1,
	    "mark cookies Secure (set when heard is behind TLS)" },
	{ "http", "login_per_min", OPT_LONG, F(login_per_min), 1, 1000,
	    "failed log-ins allowed per address and per account a minute" },
	{ "poll", "interval", OPT_SECS, F(poll_interval), 10, 7 * 86400,
	    "time between two polls of a source" },
	{ "poll", "jitter", OPT_SECS, F(poll_jitter), 0, 86400,
	    "random delay added to each poll, to spread load" },
	{ "poll", "backoff_base", OPT_SECS, F(backoff_base), 1, 86400,
	    "first wait after a failed poll; doubles each failure" },
	{ "poll", "backoff_max", OPT_SECS, F(backoff_max), 10, 7 * 86400,
	    "ceiling of the back-off; polling never gives up" },
	{ "poll", "per_host", OPT_LONG, F(per_host), 1, 64,
	    "transfers at once to one host" },
	{ "poll", "max_transfers", OPT_LONG, F(max_transfers), 1, 1024,
	    "transfers at once in all" },
	{ "poll", "timeout", OPT_SECS, F(timeout), 1, 3600,
	    "time allowed for a whole transfer" },
	{ "poll", "connect_timeout", OPT_SECS, F(connect_timeout), 1, 600,
	    "time allowed to connect" },
	{ "poll", "max_body", OPT_BYTES, F(max_body), 1024, 1L << 30,
	    "largest response body accepted" },
	{ "poll", "max_redirects", OPT_LONG, F(max_redirects), 0, 20,
	    "redirects followed before giving up" },
	{ "poll", "resync", OPT_SECS, F(resync), 1, 3600,
	    "how often a running daemon reads the sources table again" },
	{ "poll", "user_agent", OPT_STR, F(user_agent), 0, 0,
	    "User-Agent sent with every request" },
	{ "poll", "ca_file", OPT_STR, F(ca_file), 0, 0,
	    "CA bundle for TLS verification (default: the system's)" },
	{ "poll", "allow_file_urls", OPT_BOOL, F(allow_file_urls), 0, 1,
	    "allow file:// sources (the demo uses them)" },
	{ "mail", "smtp_url", OPT_STR, F(smtp_url), 0, 0,
	    "SMTP server, e.g. smtp://127.0.0.1:2525" },
	{ "mail", "smtp_user", OPT_STR, F(smtp_user), 0, 0,
	    "SMTP AUTH user name (none: no AUTH)" },
	{ "mail", "smtp_password_file", OPT_STR, F(smtp_password_file), 0, 0,
	    "file holding the SMTP password" },
	{ "mail", "smtp_starttls", OPT_BOOL, F(smtp_starttls), 0, 1,
	    "refuse to send over smtp:// unless STARTTLS succeeds" },
	{ "mail", "from", OPT_STR, F(mail_from), 0, 0,
	    "From address of notification mails" },
	{ "mail", "reply_domain", OPT_STR, F(reply_domain), 0, 0,
	    "domain of reply+token@ addresses" },
	{ "mail", "secret_file", OPT_STR, F(secret_file), 0, 0,
	    "file holding the HMAC key that signs reply addresses" },
	{ "mail", "per_hour", OPT_LONG, F(mail_per_hour), 1, 10000,
	    "notification mails per user an hour; the rest go in the digest" },
	{ "mail", "digest_hour", OPT_LONG, F(digest_hour), 0, 23,
	    "hour of the day (UTC) the daily digest is sent" },
	{ "mail", "imap_url", OPT_STR, F(imap_url), 0, 0,
	    "mailbox polled for replies, e.g. imaps://mail.example/INBOX" },
	{ "mail", "imap_user", OPT_STR, F(imap_user), 0, 0,
	    "IMAP user name" },
	{ "mail", "imap_password_file", OPT_STR, F(imap_password_file), 0, 0,
	    "file holding the IMAP password" },
	{ "mail", "imap_interval", OPT_SECS, F(imap_interval), 1, 86400,
	    "time between two looks at the IMAP mailbox" },
	{ "log", "level", OPT_LEVEL, F(log_level), 0, 0,
	    "warn, info or debug" },
};

#undef F

struct config_ctx {
	struct config	*cfg;
	char		 reason[200];	/* first error, or empty */
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->db_path = xstrdup("./heard.db");
	c->listen = xstrdup("127.0.0.1:8080");
	c->base_url = xstrdup("http://127.0.0.1:8080");
	c->http_max_body = 1024 * 1024;
	c->session_ttl = 12 * 3600;
	c->login_per_min = 5;
	c->mail_per_hour = 12;
	c->digest_hour = 8;
	c->imap_interval = 60;
	c->poll_interval = 900;
	c->poll_jitter = 60;
	c->backoff_base = 60;
	c->backoff_max = 6 * 3600;
	c->per_host = 2;
	c->max_transfers = 32;
	c->timeout = 60;
	c->connect_timeout = 15;
	c->max_body = 10L * 1024 * 1024;
	c->max_redirects = 5;
	c->resync = 30;
	c->user_agent = xstrdup("heard/" "0.1 (+https://github.com/heard)");
	c->log_level = LOG_LVL_INFO;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].type == OPT_STR)
			free(*(char **)((char *)c + opts[i].off));
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* Number with an optional unit suffix from units; -1 if malformed. */
static int
config_number(const char *v, const char *units, const long *mult, long *out)
{
	char *end;
	long n;
	const char *u;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 0)
		return -1;
	if (*end != '\0') {
		if (units == NULL || end[1] != '\0' ||
		    (u = strchr(units, *end)) == NULL)
			return -1;
		if (n > LONG_MAX / mult[u - units])
			return -1;
		n *= mult[u - units];
	}
	*out = n;
	return 0;
}

static int
config_set(struct config_ctx *x, const struct opt *o, const char *v)
{
	static const long secs[] = { 1, 60, 3600, 86400 };
	static const long bytes[] = { 1024, 1024 * 1024, 1024 * 1024 * 1024 };
	void *field = (char *)x->cfg + o->off;
	enum log_level lvl;
	long n;
	int rc;

	switch (o->type) {
	case OPT_STR:
		free(*(char **)field);
		*(char **)field = *v ? xstrdup(v) : NULL;
		return 0;
	case OPT_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			*(int *)field = 0;
		else {
			snprintf(x->reason, sizeof(x->reason),
			    "%s.%s: '%s' is not yes or no", o->section,
			    o->key, v);
			return -1;
		}
		return 0;
	case OPT_LEVEL:
		if (log_level_parse(v, &lvl) == -1) {
			snprintf(x->reason, sizeof(x->reason),
			    "%s.%s: '%s' is not warn, info or debug",
			    o->section, o->key, v);
			return -1;
		}
		*(int *)field = (int)lvl;
		return 0;
	case OPT_SECS:
		rc = config_number(v, "smhd", secs, &n);
		break;
	case OPT_BYTES:
		rc = config_number(v, "KMG", bytes, &n);
		break;
	case OPT_LONG:
	default:
		rc = config_number(v, NULL, NULL, &n);
		break;
	}
	if (rc == -1 || n < o->min || n > o->max) {
		snprintf(x->reason, sizeof(x->reason),
		    "%s.%s: '%s' is not a %s from %ld to %ld", o->section,
		    o->key, v, o->type == OPT_SECS ? "duration (s, m, h, d)" :
		    o->type == OPT_BYTES ? "size (K, M, G)" : "number",
		    o->min, o->max);
		return -1;
	}
	*(long *)field = n;
	return 0;
}

int
config_listen_addr(const char *v, struct sockaddr_storage *ss,
    unsigned int *len, char *why, size_t whylen)
{
	struct addrinfo hints, *ai = NULL;
	char host[64];
	const char *colon, *port, *h = v;
	size_t hn;
	long n;
	int rc;

	if (v[0] == '[') {
		h = v + 1;
		colon = strstr(v, "]:");
		port = colon != NULL ? colon + 2 : NULL;
	} else {
		colon = strrchr(v, ':');
		port = colon != NULL ? colon + 1 : NULL;
	}
	if (colon == NULL || (hn = (size_t)(colon - h)) == 0 ||
	    hn >= sizeof(host) || config_number(port, NULL, NULL, &n) == -1 ||
	    n < 1 || n > 65535) {
		snprintf(why, whylen, "'%s' is not address:port (e.g. "
		    "127.0.0.1:8080 or [::1]:8080)", v);
		return -1;
	}
	memcpy(host, h, hn);
	host[hn] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v[0] == '[' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(why, whylen, "'%s': '%s' is not a numeric %s address",
		    v, host, v[0] == '[' ? "IPv6" : "IPv4");
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = (unsigned int)ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Values whose form more than their type says; 0 or -1 with reason. */
static int
config_check(struct config_ctx *x, const struct opt *o, const char *v)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char why[160];

	if (o->off != offsetof(struct config, listen))
		return 0;
	if (config_listen_addr(v, &ss, &len, why, sizeof(why)) == 0)
		return 0;
	snprintf(x->reason, sizeof(x->reason), "%s.%s: %s", o->section,
	    o->key, why);
	return -1;
}

/* inih calls this per name=value; returning 0 marks the line bad. */
static int
config_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_ctx *x = user;
	size_t i;

	if (x->reason[0] != '\0')
		return 1;	/* report the first error only */
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(opts[i].section, section) != 0 ||
		    strcmp(opts[i].key, key) != 0)
			continue;
		return config_check(x, &opts[i], value) == 0 &&
		    config_set(x, &opts[i], value) == 0;
	}
	snprintf(x->reason, sizeof(x->reason), "unknown option '%s%s%s'",
	    section, *section ? "." : "", key);
	return 0;
}

int
config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	struct config_ctx x;
	struct config c;
	int line;

	config_defaults(&c);
	memset(&x, 0, sizeof(x));
	x.cfg = &c;
	line = ini_parse(path, config_handler, &x);
	if (line == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		config_free(&c);
		return -1;
	}
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
		    x.reason[0] ? x.reason : "syntax error (expected "
		    "[section] or name = value)");
		config_free(&c);
		return -1;
	}
	if (c.backoff_base > c.backoff_max) {
		snprintf(err, errlen, "%s: poll.backoff_base is above "
		    "poll.backoff_max", path);
		config_free(&c);
		return -1;
	}
	c.path = xstrdup(path);
	config_free(out);
	*out = c;
	return 0;
}

static void
config_print_value(FILE *f, const struct config *c, const struct opt *o)
{
	const void *field = (const char *)c + o->off;
	static const char *const levels[] = { "warn", "info", "debug" };

	switch (o->type) {
	case OPT_STR:
		fprintf(f, "%s", *(char *const *)field ?
		    *(char *const *)field : "");
		break;
	case OPT_BOOL:
		fprintf(f, "%s", *(const int *)field ? "yes" : "no");
		break;
	case OPT_LEVEL:
		fprintf(f, "%s", levels[*(const int *)field % 3]);
		break;
	default:
		fprintf(f, "%ld", *(const long *)field);
		break;
	}
}

void
config_print(const struct config *c, void *stdio_file)
{
	FILE *f = stdio_file;
	const char *section = "";
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(section, opts[i].section) != 0) {
			section = opts[i].section;
			fprintf(f, "%s[%s]\n", i ? "\n" : "", section);
		}
		fprintf(f, "# %s\n%s = ", opts[i].help, opts[i].key);
		config_print_value(f, c, &opts[i]);
		fputc('\n', f);
	}
}

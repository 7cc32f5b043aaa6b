/* cmd_users: staff accounts from the command line: add, list, change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cmd.h"
#include "heard.h"
#include "password.h"
#include "users.h"

#define CMD_USERS_ORGS_MAX	64	/* --org on one command line */

#define CMD_USERS_USAGE \
	"add EMAIL [--name NAME] --role ROLE [--org CODE]... " \
	"[--notify PREF] [--password-stdin] | list [--json] | " \
	"set EMAIL [--name NAME] [--role ROLE] [--disable|--enable] | " \
	"org EMAIL CODE [--notify PREF | --remove] | passwd EMAIL"

static void	cmd_users_pw_free(char *);

struct cmd_users_sub {
	const char	*name;
	int		(*run)(struct heard *, int, char **);
};

/*
 * Reads stdin into pw (at most max bytes) with read(2), so that no
 * stdio buffer keeps a copy; a terminal gives one line, a pipe all it
 * has. The bytes read, or -1.
 */
static ssize_t
cmd_users_pw_fill(char *pw, size_t max, int tty)
{
	size_t n = 0;
	ssize_t r;

	while (n < max) {
		if ((r = read(STDIN_FILENO, pw + n, max - n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (tty && pw[n - 1] == '\n')
			break;
	}
	return (ssize_t)n;
}

/* Asks on a terminal, without echo; a pipe is read as it is. */
static ssize_t
cmd_users_pw_prompt(char *pw, size_t max, const char *email)
{
	struct termios old, quiet;
	ssize_t n;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) == -1)
		return cmd_users_pw_fill(pw, max, 0);
	/* Echo off before the prompt, so what is typed after it stays. */
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fprintf(stderr, "New password for %s: ", email);
	n = cmd_users_pw_fill(pw, max, 1);
	tcsetattr(STDIN_FILENO, TCSANOW, &old);
	fputc('\n', stderr);
	return n;
}

/*
 * A password from stdin: one line, its line break dropped. The buffer
 * is wiped and freed by cmd_users_pw_free. NULL after a one-line error.
 */
static char *
cmd_users_pw_read(const char *email)
{
	char *pw = calloc(1, PASSWORD_MAX_LEN + 3);
	ssize_t r;
	size_t n;

	if (pw == NULL) {
		cmd_fail("users: out of memory");
		return NULL;
	}
	r = cmd_users_pw_prompt(pw, PASSWORD_MAX_LEN + 2, email);
	n = r > 0 ? (size_t)r : 0;
	if (n > 0 && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	if (r == -1 || n > PASSWORD_MAX_LEN ||
	    memchr(pw, '\0', n) != NULL || memchr(pw, '\n', n) != NULL) {
		cmd_fail("users: the password on stdin must be one line of "
		    "at most %d bytes", PASSWORD_MAX_LEN);
		cmd_users_pw_free(pw);
		return NULL;
	}
	return pw;
}

/* The typed password leaves no copy in freed memory. */
static void
cmd_users_pw_free(char *pw)
{
	if (pw == NULL)
		return;
	OPENSSL_cleanse(pw, PASSWORD_MAX_LEN + 3);
	free(pw);
}

/* The account for email, or a one-line error; 0 or 1 (exit status). */
static int
cmd_users_need(struct heard *h, const char *email, struct user *u)
{
	int rc = users_find(h->store, email, u);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return cmd_fail("users: no account with email '%s' (heard "
		    "users list shows them)", email);
	return cmd_fail("users: cannot read accounts");
}

static int
cmd_users_role(const char *s, enum user_role *r)
{
	if (user_role_parse(s, r) == -1)
		return cmd_fail("users: unknown role '%s' (admin, lead, "
		    "reviewer)", s);
	return 0;
}

static int
cmd_users_notify(const char *s, enum user_notify *n)
{
	if (user_notify_parse(s, n) == -1)
		return cmd_fail("users: unknown choice of mail '%s' "
		    "(conversation, message, digest, none)", s);
	return 0;
}

/* One option of add; 0, 1 (failed) or 2 (not one of add's). */
static int
cmd_users_add_opt(int argc, char **argv, int *i, struct user_new *nu,
    int *role_set, int *pw_stdin)
{
	const char *o = argv[*i];

	if (strcmp(o, "--password-stdin") == 0) {
		*pw_stdin = 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return strcmp(o, "--name") == 0 || strcmp(o, "--role") == 0 ||
		    strcmp(o, "--notify") == 0 || strcmp(o, "--org") == 0 ?
		    cmd_fail("users add: %s needs a value", o) : 2;
	if (strcmp(o, "--name") == 0)
		nu->name = argv[++*i];
	else if (strcmp(o, "--role") == 0) {
		*role_set = 1;
		return cmd_users_role(argv[++*i], &nu->role);
	} else if (strcmp(o, "--notify") == 0)
		return cmd_users_notify(argv[++*i], &nu->notify);
	else if (strcmp(o, "--org") == 0) {
		if (nu->norgs == CMD_USERS_ORGS_MAX)
			return cmd_fail("users: at most %d --org",
			    CMD_USERS_ORGS_MAX);
		nu->orgs[nu->norgs++] = argv[++*i];
	} else
		return 2;
	return 0;
}

static int
cmd_users_add(struct heard *h, int argc, char **argv)
{
	const char *orgs[CMD_USERS_ORGS_MAX];
	struct user_new nu = { .orgs = orgs, .notify = NOTIFY_CONVERSATION };
	int i, rc, role_set = 0, pw_stdin = 0;
	char err[256], *pw = NULL;
	int64_t id;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' && nu.email == NULL) {
			nu.email = argv[i];
			continue;
		}
		if ((rc = cmd_users_add_opt(argc, argv, &i, &nu, &role_set,
		    &pw_stdin)) == 1)
			return 1;
		if (rc == 2)
			return cmd_fail("users add: unknown argument '%s'",
			    argv[i]);
	}
	if (nu.email == NULL || !role_set)
		return cmd_fail("users add: needs EMAIL and --role "
		    "(admin, lead, reviewer)");
	if (pw_stdin && (pw = cmd_users_pw_read(nu.email)) == NULL)
		return 1;
	nu.password = pw;
	id = users_add(h->store, &nu, 0, time(NULL), err, sizeof(err));
	cmd_users_pw_free(pw);
	if (id == -1)
		return cmd_fail("users add: %s", err);
	printf("%lld\n", (long long)id);
	return 0;
}

/* "RJ1:conversation,QHM:digest" or "-". */
static void
cmd_users_orgs(json_t *orgs)
{
	json_t *o;
	size_t i;

	if (json_array_size(orgs) == 0)
		fputs("-", stdout);
	json_array_foreach(orgs, i, o)
		printf("%s%s:%s", i > 0 ? "," : "",
		    json_string_value(json_object_get(o, "code")),
		    json_string_value(json_object_get(o, "notify")));
}

static void
cmd_users_row(json_t *u)
{
	const char *name = json_string_value(json_object_get(u, "name"));

	printf("%-4lld %-32s %-8s %-8s %-3s %-24s ",
	    (long long)json_integer_value(json_object_get(u, "id")),
	    json_string_value(json_object_get(u, "email")),
	    json_string_value(json_object_get(u, "role")),
	    json_is_true(json_object_get(u, "disabled")) ? "disabled" :
	    "enabled", json_is_true(json_object_get(u, "has_password")) ?
	    "yes" : "no", name != NULL && *name != '\0' ? name : "-");
	cmd_users_orgs(json_object_get(u, "orgs"));
	putchar('\n');
}

static int
cmd_users_list(struct heard *h, int argc, char **argv)
{
	json_t *all, *u;
	int json = 0, i;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return cmd_fail("users list: unknown argument '%s'",
			    argv[i]);
	}
	if ((all = users_json(h->store, 0)) == NULL)
		return cmd_fail("users list: cannot read accounts");
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%-4s %-32s %-8s %-8s %-3s %-24s %s\n", "ID", "EMAIL",
		    "ROLE", "STATE", "PW", "NAME", "ORGANISATIONS:MAIL");
		json_array_foreach(all, k, u)
			cmd_users_row(u);
	}
	json_decref(all);
	return 0;
}

/* What set changes; NULL pointers leave a field alone. */
struct cmd_users_change {
	const char	*name;
	enum user_role	 role;
	int		 role_set;
	int		 disabled;
	int		 disabled_set;
};

static int
cmd_users_set_opt(int argc, char **argv, int *i, struct cmd_users_change *c)
{
	const char *o = argv[*i];

	if (strcmp(o, "--disable") == 0 || strcmp(o, "--enable") == 0) {
		if (c->disabled_set)
			return cmd_fail("users set: one of --disable and "
			    "--enable");
		c->disabled_set = 1;
		c->disabled = strcmp(o, "--disable") == 0;
	} else if (strcmp(o, "--name") == 0 && *i + 1 < argc)
		c->name = argv[++*i];
	else if (strcmp(o, "--role") == 0 && *i + 1 < argc) {
		c->role_set = 1;
		return cmd_users_role(argv[++*i], &c->role);
	} else
		return cmd_fail("users set: unknown argument '%s'", o);
	return 0;
}

static int
cmd_users_set(struct heard *h, int argc, char **argv)
{
	struct cmd_users_change c = { 0 };
	struct user u;
	char err[256];
	int i, rc;

	if (argc < 3 || argv[1][0] == '-')
		return cmd_fail("users set: nothing to change: heard users set "
		    "EMAIL [--name NAME] [--role ROLE] [--disable|--enable]");
	for (i = 2; i < argc; i++)
		if (cmd_users_set_opt(argc, argv, &i, &c) != 0)
			return 1;
	if (cmd_users_need(h, argv[1], &u) != 0)
		return 1;
	rc = users_update(h->store, u.id, c.name, c.role_set ? &c.role : NULL,
	    c.disabled_set ? &c.disabled : NULL, 0, time(NULL), err,
	    sizeof(err));
	user_free(&u);
	return rc == -1 ? cmd_fail("users set: %s", err) : 0;
}

/*
 * Without --notify an existing membership keeps its choice, and a
 * new one gets a mail for each new conversation.
 */
static enum user_notify
cmd_users_current(struct heard *h, int64_t id, const char *code)
{
	json_t *all = users_json(h->store, id), *o;
	enum user_notify n = NOTIFY_CONVERSATION;
	size_t i;

	json_array_foreach(json_object_get(json_array_get(all, 0), "orgs"),
	    i, o)
		if (strcasecmp(json_string_value(json_object_get(o, "code")),
		    code) == 0)
			user_notify_parse(json_string_value(
			    json_object_get(o, "notify")), &n);
	json_decref(all);
	return n;
}

static int
cmd_users_org(struct heard *h, int argc, char **argv)
{
	enum user_notify n = NOTIFY_CONVERSATION;
	int i, remove = 0, notify_set = 0, rc;
	struct user u;
	char err[256];

	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cmd_fail("usage: heard users org EMAIL CODE "
		    "[--notify PREF | --remove]");
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--remove") == 0)
			remove = 1;
		else if (strcmp(argv[i], "--notify") == 0 && i + 1 < argc) {
			notify_set = 1;
			if (cmd_users_notify(argv[++i], &n) != 0)
				return 1;
		} else
			return cmd_fail("users org: unknown argument '%s'",
			    argv[i]);
	}
	if (remove && notify_set)
		return cmd_fail("users org: --remove takes no --notify");
	if (cmd_users_need(h, argv[1], &u) != 0)
		return 1;
	if (!remove && !notify_set)
		n = cmd_users_current(h, u.id, argv[2]);
	rc = remove ? users_remove_org(h->store, u.id, argv[2], 0, time(NULL),
	    err, sizeof(err)) : users_set_org(h->store, u.id, argv[2], n, 0,
	    time(NULL), err, sizeof(err));
	user_free(&u);
	return rc == -1 ? cmd_fail("users org: %s", err) : 0;
}

static int
cmd_users_passwd(struct heard *h, int argc, char **argv)
{
	struct user u;
	char err[256], *pw;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_fail("usage: heard users passwd EMAIL "
		    "(the password on stdin)");
	if (cmd_users_need(h, argv[1], &u) != 0)
		return 1;
	if ((pw = cmd_users_pw_read(argv[1])) == NULL) {
		user_free(&u);
		return 1;
	}
	rc = users_set_password(h->store, u.id, pw, 0, time(NULL), err,
	    sizeof(err));
	cmd_users_pw_free(pw);
	user_free(&u);
	return rc == -1 ? cmd_fail("users passwd: %s", err) : 0;
}

static const struct cmd_users_sub cmd_users_subs[] = {
	{ .name = "add", .run = cmd_users_add },
	{ .name = "list", .run = cmd_users_list },
	{ .name = "set", .run = cmd_users_set },
	{ .name = "org", .run = cmd_users_org },
	{ .name = "passwd", .run = cmd_users_passwd },
};

static int
cmd_users_exec(struct heard *h, int argc, char **argv)
{
	size_t i;

	for (i = 0; argc >= 2 &&
	    i < sizeof(cmd_users_subs) / sizeof(cmd_users_subs[0]); i++)
		if (strcmp(argv[1], cmd_users_subs[i].name) == 0)
			return cmd_users_subs[i].run(h, argc - 1, argv + 1);
	if (argc < 2)
		return cmd_fail("users: add, list, set, org or passwd? "
		    "(heard users --help)");
	return cmd_fail("users: unknown subcommand '%s' (add, list, set, "
	    "org, passwd; heard users --help)", argv[1]);
}

const struct cmd_entry cmd_users_entry = {
	.name = "users",
	.usage = CMD_USERS_USAGE,
	.help = "adds staff accounts, lists them, changes their role, "
	    "organisations and password",
	.more =
	    "add EMAIL --role ROLE [--name NAME] [--org CODE]... "
	    "[--notify PREF]\n    [--password-stdin]\n"
	    "  ROLE: admin (everything), lead (reads and answers for its\n"
	    "  organisations) or reviewer (reads its organisations and those\n"
	    "  they commission). A lead or reviewer needs at least one --org\n"
	    "  (an ODS code). PREF, the mail wanted for each --org:\n"
	    "  conversation (default), message, digest or none. Prints the\n"
	    "  new account's id alone on stdout.\n"
	    "list [--json]\n"
	    "  Every account with its role, state and organisations.\n"
	    "set EMAIL [--name NAME] [--role ROLE] [--disable|--enable]\n"
	    "  Disabling ends the account's web sessions and API tokens.\n"
	    "  The last enabled admin cannot be disabled or demoted.\n"
	    "org EMAIL CODE [--notify PREF | --remove]\n"
	    "  Adds the organisation to the account, or changes its PREF\n"
	    "  (kept as it is without --notify); --remove takes it away.\n"
	    "passwd EMAIL\n"
	    "  Sets the password read from stdin (one line, at least 10\n"
	    "  characters): asked for without echo on a terminal, else\n"
	    "  read from a pipe, e.g. a password manager's.\n"
	    "Every change is written to the audit log.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_users_exec,
};

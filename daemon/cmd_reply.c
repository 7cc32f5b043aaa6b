/* cmd_reply: answers a conversation: queued for the daemon, or a task. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "connector.h"
#include "heard.h"
#include "registry.h"
#include "replies.h"
#include "reply_submit.h"
#include "tasks.h"
#include "xmalloc.h"

struct cmd_reply_opts {
	const char	*thread;	/* borrowed from argv */
	const char	*body;		/* borrowed from argv */
	const char	*body_file;	/* borrowed; "-" is stdin */
	const char	*as;		/* staff account's email, or NULL */
	const char	*retry;		/* reply id, or NULL */
	const char	*cancel;	/* reply id, or NULL */
};

/* The value after argv[*i]; NULL (and a message) if there is none. */
static const char *
cmd_reply_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		cmd_fail("reply: %s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int
cmd_reply_args(int argc, char **argv, struct cmd_reply_opts *o)
{
	static const char *const names[] = { "--body", "--body-file", "--as",
	    "--retry", "--cancel" };
	const char **slots[] = { &o->body, &o->body_file, &o->as, &o->retry,
	    &o->cancel };
	size_t k;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(argv[i], names[k]) == 0)
				break;
		if (k < sizeof(names) / sizeof(names[0])) {
			if ((*slots[k] = cmd_reply_value(argc, argv, &i)) ==
			    NULL)
				return -1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			cmd_fail("reply: unknown option '%s'", argv[i]);
			return -1;
		} else if (o->thread == NULL)
			o->thread = argv[i];
		else {
			cmd_fail("reply: one thread at a time ('%s')",
			    argv[i]);
			return -1;
		}
	}
	return 0;
}

/* The text of a file, or stdin for "-", bounded; owned, or NULL. */
static char *
cmd_reply_read(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *text;
	size_t n;

	if (f == NULL) {
		cmd_fail("reply: %s: %s", path, strerror(errno));
		return NULL;
	}
	/* One byte more than allowed, so "too long" is told, not cut. */
	text = xmalloc(REPLY_BODY_MAX + 2);
	n = fread(text, 1, REPLY_BODY_MAX + 1, f);
	text[n] = '\0';
	if (ferror(f) || memchr(text, '\0', n) != NULL) {
		cmd_fail("reply: %s: %s", path, ferror(f) ? "cannot read it" :
		    "it holds a NUL byte: not text");
		free(text);
		text = NULL;
	}
	if (f != stdin)
		fclose(f);
	return text;
}

/* The task as staff will follow it: where, then the text to copy. */
static void
cmd_reply_task(struct heard *h, const struct reply_thread *t,
    int64_t task_id)
{
	const struct connector *c = registry_find(t->connector);
	json_t *tasks = tasks_json(h->store, t->id), *k;
	const char *url;
	size_t i;

	json_array_foreach(tasks, i, k) {
		if (json_integer_value(json_object_get(k, "id")) != task_id)
			continue;
		url = json_string_value(json_object_get(k, "url"));
		printf("task %lld on %s: %s takes no replies from heard; post "
		    "this there yourself%s\n  %s\n\n%s\n", (long long)task_id,
		    t->reference, c->title, url != NULL ? ":" : ".",
		    url != NULL ? url : "", json_string_value(
		    json_object_get(k, "text")));
	}
	json_decref(tasks);
}

/* Who signs: the --as account, checked for that organisation. */
static int
cmd_reply_author(struct heard *h, const char *as, int64_t org_id,
    const char *org_code, struct reply_author *au)
{
	char err[256];

	memset(au, 0, sizeof(*au));
	if (as == NULL)
		return 0;
	if (replies_author(h->store, as, org_id, org_code, au, err,
	    sizeof(err)) == -1) {
		cmd_fail("reply: %s", err);
		return -1;
	}
	return 0;
}

static int
cmd_reply_write(struct heard *h, const struct reply_thread *t,
    const struct cmd_reply_opts *o, const char *body)
{
	struct reply_submitted out;
	struct reply_author au;
	char err[256];
	int rc = 0;

	if (cmd_reply_author(h, o->as, t->org_id, t->org_code, &au) == -1)
		return 1;
	if (reply_submit(h, t, body, &au, "cli", time(NULL), &out, err,
	    sizeof(err)) == -1)
		rc = cmd_fail("reply: %s", err);
	else {
		printf("%lld\n", (long long)out.reply_id);
		if (out.mode == REPLY_MODE_HANDOFF)
			cmd_reply_task(h, t, out.task_id);
	}
	free(au.name);
	return rc;
}

static int
cmd_reply_new(struct heard *h, const struct cmd_reply_opts *o)
{
	struct reply_thread t;
	char *text = NULL;
	int rc;

	if ((o->body == NULL) == (o->body_file == NULL))
		return cmd_fail("reply: give the text with --body TEXT or "
		    "--body-file FILE");
	if ((rc = replies_thread(h->store, o->thread, &t)) != 1)
		return cmd_fail(rc == 0 ? "no thread '%s'" :
		    "cannot read thread '%s'", o->thread);
	if (o->body_file != NULL &&
	    (text = cmd_reply_read(o->body_file)) == NULL)
		rc = 1;
	else
		rc = cmd_reply_write(h, &t, o, text != NULL ? text :
		    o->body);
	free(text);
	reply_thread_free(&t);
	return rc;
}

/* --retry or --cancel on one reply, signed by --as if given. */
static int
cmd_reply_act(struct heard *h, const struct cmd_reply_opts *o)
{
	const char *arg = o->retry != NULL ? o->retry : o->cancel;
	struct reply_author au;
	struct reply_row row;
	char err[256], *end;
	long long id;
	int rc;

	id = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || id <= 0)
		return cmd_fail("reply: '%s' is not a reply id", arg);
	if ((rc = replies_get(h->store, id, &row)) != 1)
		return cmd_fail(rc == 0 ? "no reply %lld" :
		    "cannot read reply %lld", id);
	rc = cmd_reply_author(h, o->as, row.thread.org_id,
	    row.thread.org_code, &au);
	reply_row_free(&row);
	if (rc == -1)
		return 1;
	rc = o->retry != NULL ?
	    replies_retry(h->store, id, au.user_id, time(NULL), err,
	    sizeof(err)) :
	    replies_cancel(h->store, id, au.user_id, time(NULL), err,
	    sizeof(err));
	free(au.name);
	if (rc == -1)
		return cmd_fail("reply: %s", err);
	printf("%lld\n", id);
	return 0;
}

static int
cmd_reply_exec(struct heard *h, int argc, char **argv)
{
	struct cmd_reply_opts o;

	if (cmd_reply_args(argc, argv, &o) == -1)
		return 1;
	if (o.retry != NULL && o.cancel != NULL)
		return cmd_fail("reply: --retry or --cancel, not both");
	if (o.retry != NULL || o.cancel != NULL) {
		if (o.thread != NULL || o.body != NULL || o.body_file != NULL)
			return cmd_fail("reply: --retry and --cancel take a "
			    "reply id alone");
		return cmd_reply_act(h, &o);
	}
	if (o.thread == NULL)
		return cmd_fail("usage: heard reply THREAD --body TEXT "
		    "[--as EMAIL]");
	return cmd_reply_new(h, &o);
}

const struct cmd_entry cmd_reply_entry = {
	.name = "reply",
	.usage = "THREAD --body TEXT|--body-file FILE [--as EMAIL]\n"
	    "       heard reply --retry|--cancel REPLY [--as EMAIL]",
	.help = "answers a conversation on its channel, or makes a task",
	.more = "THREAD is the id or reference code. On a channel heard "
	    "posts on (replies:\napi in `heard connectors`) the reply is "
	    "queued and the daemon (heard\nserve) posts it, retrying "
	    "failures that may pass, never twice; its id\nis printed. On a "
	    "handoff channel it becomes a task: the text to copy and\nthe "
	    "link where the organisation responds; the task closes when a "
	    "poll\nsees the reply there. `heard thread` shows both.\n"
	    "  --body-file FILE  the text from a file ('-': stdin)\n"
	    "  --as EMAIL        sign as that staff account (admin, or a "
	    "lead of the\n                    thread's organisation)\n"
	    "  --retry REPLY     send a failed or unknown reply again "
	    "(check the\n                    channel first: 'unknown' may "
	    "be there already)\n"
	    "  --cancel REPLY    stop a queued reply before it is sent\n"
	    "At most 10000 bytes of UTF-8 text.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_reply_exec,
};

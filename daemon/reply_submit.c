/* reply_submit: a staff reply from any door (command line, web, mail) on its way. */
#include "reply_submit.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "connector.h"
#include "heard.h"
#include "registry.h"
#include "replier.h"
#include "replies.h"
#include "settings_json.h"

const char *
reply_mode_name(enum reply_mode m)
{
	switch (m) {
	case REPLY_MODE_API:
		return "api";
	case REPLY_MODE_HANDOFF:
		return "handoff";
	case REPLY_MODE_NONE:
	default:
		return "none";
	}
}

enum reply_mode
reply_mode_of(const char *connector)
{
	const struct connector *c = connector != NULL ?
	    registry_find(connector) : NULL;

	if (c == NULL || c->reply_mode == CONN_REPLY_NONE)
		return REPLY_MODE_NONE;
	return c->reply_mode == CONN_REPLY_HANDOFF ? REPLY_MODE_HANDOFF :
	    REPLY_MODE_API;
}

/* The channel, if it takes replies; else NULL and the reason. */
static const struct connector *
reply_submit_channel(const struct reply_thread *t, char *err, size_t errlen)
{
	const struct connector *c = registry_find(t->connector);

	if (c == NULL)
		snprintf(err, errlen, "thread %s came from '%s', a connector "
		    "this heard does not know", t->reference, t->connector);
	else if (c->reply_mode == CONN_REPLY_NONE)
		snprintf(err, errlen, "%s cannot relay replies; answer the "
		    "patient on the channel itself (thread %s)", c->name,
		    t->reference);
	else
		return c;
	return NULL;
}

/* The connector's conf from the thread's source, in the arena. */
static const void *
reply_submit_conf(const struct connector *c, const struct reply_thread *t,
    struct arena *a, char *err, size_t errlen)
{
	struct conn_settings set;
	struct conn_error e = { 0 };
	const void *conf = NULL;

	if (t->settings == NULL) {
		snprintf(err, errlen, "no %s source for %s to reply through",
		    c->name, t->org_code);
		return NULL;
	}
	if (settings_from_json(a, t->settings, &set, &e) == 0)
		conf = c->configure(a, &set, &e);
	if (conf == NULL)
		snprintf(err, errlen, "source %lld: %s", (long long)t->source_id,
		    e.msg[0] != '\0' ? e.msg : "its settings are refused");
	return conf;
}

int
reply_submit(struct heard *h, const struct reply_thread *t, const char *body,
    const struct reply_author *author, const char *via, int64_t now,
    struct reply_submitted *out, char *err, size_t errlen)
{
	static const struct reply_author nobody = { 0, NULL };
	struct reply_new r = { .thread = t, .body = body,
	    .author = author != NULL ? author : &nobody, .via = via };
	const struct connector *c;
	const char *url = NULL;
	const void *conf;
	struct arena a;

	memset(out, 0, sizeof(*out));
	if (replies_check_body(body, err, errlen) == -1 ||
	    (c = reply_submit_channel(t, err, errlen)) == NULL)
		return -1;
	arena_init(&a);
	if ((conf = reply_submit_conf(c, t, &a, err, errlen)) == NULL) {
		arena_free(&a);
		return -1;
	}
	if (c->reply_mode == CONN_REPLY_HANDOFF) {
		out->mode = REPLY_MODE_HANDOFF;
		if (c->handoff_url != NULL)
			url = c->handoff_url(conf, t->thread_key, &a);
		/* Without the provider's own page, the post is the place. */
		out->reply_id = replies_handoff(h->store, &r,
		    url != NULL ? url : t->root_url, now, &out->task_id, err,
		    errlen);
	} else {
		out->mode = REPLY_MODE_API;
		out->reply_id = replies_queue(h->store, &r, now, err, errlen);
		if (out->reply_id > 0 && h->replier != NULL)
			replier_wake(h->replier);
	}
	arena_free(&a);
	return out->reply_id > 0 ? 0 : -1;
}

/* mail_accept: whether a staff reply that came by mail may be relayed. */
#include "mail_accept.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "mail_parse.h"
#include "reply_strip.h"
#include "reply_token.h"

static const char *const mail_outcomes[] = {
	[MAIL_ACCEPTED] = "accepted",
	[MAIL_REFUSED] = "refused",
	[MAIL_DROPPED] = "dropped",
};

const char *
mail_outcome_name(enum mail_outcome o)
{
	if ((size_t)o >= sizeof(mail_outcomes) / sizeof(mail_outcomes[0]))
		return "?";
	return mail_outcomes[o];
}

int
mail_accept_key(const struct mail_msg *m, const char *bytes, size_t len,
    char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t n;

	if (m->message_id != NULL && m->message_id[0] != '\0') {
		n = (size_t)snprintf(out, outlen, "%s", m->message_id);
		return n < outlen ? 0 : -1;
	}
	if (outlen < 7 + 64 + 14 + 1 ||
	    EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	n = (size_t)snprintf(out, outlen, "sha256-");
	for (i = 0; i < mdlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%02x", md[i]);
	snprintf(out + n, outlen - n, "@heard.invalid");
	return 0;
}

void
mail_facts_free(struct mail_facts *f)
{
	free(f->org_code);
	free(f->user_email);
	memset(f, 0, sizeof(*f));
}

void
mail_verdict_free(struct mail_verdict *v)
{
	free(v->text);
	v->text = NULL;
}

/* Sets the verdict's outcome and its reason; returns 0 for the caller. */
static int
mail_accept_say(struct mail_verdict *v, enum mail_outcome o,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
mail_accept_say(struct mail_verdict *v, enum mail_outcome o,
    const char *fmt, ...)
{
	va_list ap;

	v->outcome = o;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * The token among the recipients: the first that verifies, else the
 * first failure, so a reply-to-all that also reached an old address
 * still counts. REPLY_TOKEN_OK, a failure, or 1 if no recipient is a
 * reply address of ours at all.
 */
static int
mail_accept_token(const struct mail_accept_ctx *c, const struct mail_msg *m,
    int64_t *thread_id, int64_t *user_id)
{
	char tok[REPLY_TOKEN_MAX];
	int first = 1, rc;
	size_t i;

	for (i = 0; i < m->nrcpts && i < MAIL_MAX_RCPTS; i++) {
		if (reply_token_from_addr(m->rcpts[i], c->reply_domain,
		    tok) == -1)
			continue;
		rc = reply_token_check(c->key, c->keylen, tok, thread_id,
		    user_id);
		if (rc == REPLY_TOKEN_OK)
			return REPLY_TOKEN_OK;
		if (first == 1)
			first = rc;
	}
	*thread_id = *user_id = 0;
	return first;
}

/* The checks on the sender, once the token's thread and user are known. */
static int
mail_accept_sender(const struct mail_msg *m, const struct mail_facts *f,
    struct mail_verdict *v)
{
	if (!f->thread_found)
		return mail_accept_say(v, MAIL_REFUSED, "the conversation "
		    "this reply address names no longer exists");
	if (!f->user_found || f->user_email == NULL || m->from_addr == NULL ||
	    strcasecmp(f->user_email, m->from_addr) != 0)
		return mail_accept_say(v, MAIL_REFUSED, "the sender is not "
		    "the staff member this reply address was made for");
	if (f->user_disabled)
		return mail_accept_say(v, MAIL_REFUSED, "the staff account "
		    "is disabled");
	if (!f->may_write)
		return mail_accept_say(v, MAIL_REFUSED, "%s may not reply "
		    "for %s (%s)", m->from_addr, f->org_code != NULL ?
		    f->org_code : "this organisation", f->user_reviewer ?
		    "a read-only reviewer" : "not one of their "
		    "organisations");
	return 1;
}

/* The verdict once the sender is known to be allowed: the text. */
static int
mail_accept_text(const struct mail_msg *m, struct mail_verdict *v)
{
	char *text = reply_strip(m->text != NULL ? m->text : "");

	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0') {
		free(text);
		return mail_accept_say(v, MAIL_REFUSED, "nothing is left to "
		    "send once the quoted mail and signature are taken out");
	}
	v->outcome = MAIL_ACCEPTED;
	v->reason[0] = '\0';
	v->text = text;
	return 0;
}

int
mail_accept_check(const struct mail_accept_ctx *c, const struct mail_msg *m,
    struct mail_verdict *v)
{
	struct mail_facts f;
	int rc;

	memset(v, 0, sizeof(*v));
	if (m->auto_kind != MAIL_AUTO_NONE)
		return mail_accept_say(v, MAIL_DROPPED, "machine-made (%s)",
		    mail_auto_name(m->auto_kind));
	rc = mail_accept_token(c, m, &v->thread_id, &v->user_id);
	if (rc == 1)
		return mail_accept_say(v, MAIL_REFUSED, "not addressed to a "
		    "reply address");
	if (rc == REPLY_TOKEN_MALFORMED)
		return mail_accept_say(v, MAIL_REFUSED, "the reply address "
		    "is malformed");
	if (rc != REPLY_TOKEN_OK)
		return mail_accept_say(v, MAIL_REFUSED, "the reply address "
		    "was not made by this heard (its signature does not "
		    "verify)");
	memset(&f, 0, sizeof(f));
	if (c->lookup(c->lookup_arg, v->thread_id, v->user_id, &f) == -1) {
		mail_facts_free(&f);
		return -1;
	}
	rc = mail_accept_sender(m, &f, v);
	/* The ids are stored as references: only those that exist. */
	if (!f.thread_found)
		v->thread_id = 0;
	if (!f.user_found)
		v->user_id = 0;
	mail_facts_free(&f);
	if (rc != 1)
		return 0;
	return mail_accept_text(m, v);
}

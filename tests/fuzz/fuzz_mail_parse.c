/*
 * fuzz_mail_parse: mail_parse, then reply_strip on what it read, on
 * arbitrary bytes. A message that is read must come out as heard
 * relies on it (valid UTF-8 text with \n line ends, addresses in lower
 * case, ids without <>, everything bounded); one that is refused must
 * say why and leave nothing behind. Anything else aborts.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mail_parse.h"
#include "reply_strip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Valid UTF-8, no controls but tab and newline (and never \r). */
static void
fuzz_utf8_text(const char *s, const char *what)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;

	while (*p != '\0') {
		fuzz_check(*p >= 0x20 || *p == '\t' || *p == '\n', what);
		fuzz_check(*p != 0x7f, what);
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc2 ? 1 : 0;
		fuzz_check(n > 0 && *p <= 0xf4, what);
		for (i = 1; i <= n; i++)
			fuzz_check((p[i] & 0xc0) == 0x80, what);
		p += n + 1;
	}
}

static void
fuzz_addr(const char *a, const char *what)
{
	size_t i;

	if (a == NULL)
		return;
	fuzz_check(strchr(a, '@') != NULL && strlen(a) <= 320, what);
	for (i = 0; a[i] != '\0'; i++)
		fuzz_check((unsigned char)a[i] > 0x20 && a[i] != 0x7f &&
		    !(a[i] >= 'A' && a[i] <= 'Z') && a[i] != '<' &&
		    a[i] != '>', what);
}

static void
fuzz_msg(const struct mail_msg *m)
{
	size_t i, j;
	char *s;

	fuzz_addr(m->from_addr, "from_addr");
	if (m->return_path != NULL && m->return_path[0] != '\0')
		fuzz_addr(m->return_path, "return_path");
	fuzz_check(m->nrcpts <= MAIL_MAX_RCPTS, "nrcpts");
	for (i = 0; i < m->nrcpts; i++) {
		fuzz_addr(m->rcpts[i], "rcpt");
		for (j = 0; j < i; j++)
			fuzz_check(strcmp(m->rcpts[i], m->rcpts[j]) != 0,
			    "rcpt twice");
	}
	fuzz_text(m->from_name, 998, 0, "from_name");
	fuzz_text(m->subject, 998, 0, "subject");
	fuzz_text(m->message_id, 998, 0, "message_id");
	fuzz_text(m->in_reply_to, 998, 0, "in_reply_to");
	fuzz_check(m->message_id == NULL ||
	    strpbrk(m->message_id, "<> ") == NULL, "message_id <>");
	fuzz_check(strcmp(mail_auto_name(m->auto_kind), "unknown") != 0,
	    "auto_kind");
	fuzz_check(m->text != NULL && strlen(m->text) <= MAIL_MAX_TEXT,
	    "text size");
	fuzz_utf8_text(m->text, "text");
	fuzz_check(m->text_from_html == 0 || m->text_from_html == 1, "html");
	s = reply_strip(m->text);
	fuzz_check(s != NULL && strlen(s) <= strlen(m->text), "stripped");
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_msg m;
	char err[256];

	err[0] = '\0';
	if (mail_parse((const char *)data, size, &m, err, sizeof(err)) == 0)
		fuzz_msg(&m);
	else
		fuzz_check(err[0] != '\0' && m.text == NULL &&
		    m.from_addr == NULL && m.nrcpts == 0, "error");
	mail_msg_free(&m);
	return 0;
}

/* Replays run each seed once as it is: no mode byte. */
const unsigned fuzz_replay_modes = 0;

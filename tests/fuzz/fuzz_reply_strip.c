/*
 * fuzz_reply_strip: reply_strip on arbitrary text. What comes out must
 * be lines of what went in, in their order (it only ever drops lines),
 * with \n line ends and no blank line at either end. Anything else
 * aborts.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "reply_strip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as reply_strip reads it: up to a NUL, \r\n and \r as \n. */
static char *
fuzz_lines(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	size_t i, o = 0;

	fuzz_check(s != NULL, "malloc");
	for (i = 0; i < size && data[i] != '\0'; i++) {
		if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
			continue;
		s[o++] = data[i] == '\r' ? '\n' : (char)data[i];
	}
	s[o] = '\0';
	return s;
}

/* Each line of out is a whole line of in, in the same order. */
static void
fuzz_subsequence(const char *in, const char *out)
{
	const char *ie, *oe;
	size_t ol, il;

	while (*out != '\0') {
		oe = strchr(out, '\n');
		ol = oe != NULL ? (size_t)(oe - out) : strlen(out);
		for (;;) {
			fuzz_check(*in != '\0' || ol == 0, "stray line");
			ie = strchr(in, '\n');
			il = ie != NULL ? (size_t)(ie - in) : strlen(in);
			if (il == ol && memcmp(in, out, ol) == 0)
				break;
			fuzz_check(ie != NULL, "stray line");
			in = ie + 1;
		}
		in = ie != NULL ? ie + 1 : in + strlen(in);
		if (oe == NULL)
			break;
		out = oe + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out;
	size_t n;

	in = fuzz_lines(data, size);
	out = reply_strip((const char *)in);
	n = strlen(out);
	fuzz_check(strchr(out, '\r') == NULL, "cr");
	fuzz_check(n <= strlen(in), "longer");
	fuzz_check(n == 0 || (out[0] != '\n' && out[n - 1] != '\n'),
	    "blank line at an end");
	if (strlen(in) <= REPLY_STRIP_MAX)
		fuzz_subsequence(in, out);
	free(out);
	free(in);
	return 0;
}

/* Replays run each seed once as it is: no mode byte. */
const unsigned fuzz_replay_modes = 0;

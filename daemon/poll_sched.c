/* poll_sched: when a source is next due, from state, policy and now. */
#include "poll_sched.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"

/* Parsed numbers stop growing here: far beyond any hint we honour. */
#define SCHED_NUM_MAX	((int64_t)1 << 40)

void
sched_policy_init(struct sched_policy *p, const struct config *cfg)
{
	p->interval = cfg->poll_interval;
	p->jitter = cfg->poll_jitter;
	p->backoff_base = cfg->backoff_base;
	p->backoff_max = cfg->backoff_max;
	p->hint_max = SCHED_HINT_MAX;
}

static int64_t
sched_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* a + b for b >= 0, saturating just below SCHED_NEVER. */
static int64_t
sched_add(int64_t a, int64_t b)
{
	if (a > SCHED_NEVER - 1 - b)
		return SCHED_NEVER - 1;
	return a + b;
}

/* base * 2^(failures - 1), capped; doubling stops at the cap. */
static int64_t
sched_backoff(const struct sched_policy *p, int failures)
{
	int64_t wait = sched_max(p->backoff_base, 1);
	int64_t cap = sched_max(p->backoff_max, wait);
	int i;

	for (i = 1; i < failures && wait < cap; i++)
		wait = wait > cap / 2 ? cap : wait * 2;
	return wait;
}

/* A server's hint in seconds, bounded so one header cannot stall us. */
static int64_t
sched_hint(const struct sched_policy *p, int64_t v)
{
	int64_t max = p->hint_max > 0 ? p->hint_max : SCHED_HINT_MAX;

	if (v <= 0)
		return 0;
	return v < max ? v : max;
}

static int64_t
sched_jitter(const struct sched_policy *p, uint32_t rnd)
{
	if (p->jitter <= 0)
		return 0;
	return (int64_t)(rnd % ((uint64_t)p->jitter + 1));
}

int64_t
sched_next(const struct sched_policy *p, const struct sched_state *s,
    int64_t now, uint32_t rnd)
{
	int64_t wait;

	if (s->paused || s->err == CONN_ERR_AUTH || s->err == CONN_ERR_CONFIG)
		return SCHED_NEVER;
	if (s->err == CONN_OK && s->failures <= 0)
		wait = sched_max(p->interval, sched_hint(p, s->min_interval));
	else
		wait = sched_max(sched_backoff(p, s->failures),
		    sched_hint(p, s->retry_after));
	/* Never due at once: a zero interval must not spin the loop. */
	wait = sched_max(wait, 1);
	return sched_add(sched_add(now, wait), sched_jitter(p, rnd));
}

/* Decimal digits at *sp, saturating; -1 if there are none. */
static int64_t
sched_number(const char **sp)
{
	const char *s = *sp;
	int64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++)
		if (n < SCHED_NUM_MAX)
			n = n * 10 + (*s - '0');
	*sp = s;
	return n < SCHED_NUM_MAX ? n : SCHED_NUM_MAX;
}

static const char *
sched_skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Whether s starts with the directive name (and not a longer one). */
static int
sched_is(const char *s, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(s, name, n) == 0 &&
	    strchr(" \t=,", s[n]) != NULL;
}

/* One Cache-Control directive at s: its max-age, -2 forbids, -1 other. */
static int64_t
sched_directive(const char *s)
{
	if (sched_is(s, "no-store") || sched_is(s, "no-cache"))
		return -2;
	if (!sched_is(s, "max-age"))
		return -1;
	s = sched_skip_space(s + 7);
	if (*s++ != '=')
		return -1;
	s = sched_skip_space(s);
	if (*s == '"')
		s++;
	return sched_number(&s);
}

int64_t
sched_max_age(const char *cc)
{
	int64_t age = -1, v;

	while (cc != NULL && *cc != '\0') {
		cc = sched_skip_space(cc);
		v = sched_directive(cc);
		if (v == -2)
			return -1;
		if (v >= 0)
			age = v;
		cc = strchr(cc, ',');
		if (cc != NULL)
			cc++;
	}
	return age;
}

/* An HTTP date in any of the three forms RFC 9110 makes us accept. */
static int
sched_http_date(const char *s, time_t *out)
{
	static const char *const fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime */
	};
	struct tm tm;
	const char *end;
	size_t i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *sched_skip_space(end) == '\0') {
			*out = timegm(&tm);
			return 0;
		}
	}
	return -1;
}

int64_t
sched_retry_after(const char *value, int64_t now)
{
	const char *s;
	int64_t n;
	time_t t;

	if (value == NULL)
		return -1;
	s = sched_skip_space(value);
	if ((n = sched_number(&s)) >= 0)
		return *sched_skip_space(s) == '\0' ? n : -1;
	if (sched_http_date(sched_skip_space(value), &t) == -1)
		return -1;
	return (int64_t)t > now ? (int64_t)t - now : 0;
}

/* metrics: the daemon's counters and their Prometheus text (/metrics). */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"

static const double metrics_bounds[METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const metrics_classes[4] = { "2xx", "3xx", "4xx", "5xx" };

/* The four states the API and the web inbox show for a source. */
static const char metrics_sql_sources[] =
    "SELECT CASE WHEN paused THEN 'paused'"
    " WHEN last_ok IS NULL AND last_error_at IS NULL THEN 'new'"
    " WHEN failures > 0 THEN 'failing' ELSE 'ok' END AS health, count(*)"
    " FROM sources GROUP BY health";
static const char metrics_sql_mails[] =
    "SELECT count(*) FROM mails WHERE status = 'sent'";

void
metrics_http(struct metrics *m, int status, double seconds)
{
	size_t i;

	if (status >= 200 && status < 600)
		m->http[status / 100 - 2]++;
	for (i = 0; i < METRICS_BUCKETS; i++)
		if (seconds <= metrics_bounds[i]) {
			m->http_buckets[i]++;
			break;
		}
	m->http_count++;
	m->http_seconds += seconds;
}

static int
metrics_head(struct buf *out, const char *name, const char *type,
    const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* Every health gets a line, 0 when no source has it. */
static int
metrics_sources(struct store *s, struct buf *out)
{
	static const char *const healths[] = { "ok", "failing", "paused",
	    "new" };
	uint64_t n[4] = { 0, 0, 0, 0 };
	sqlite3_stmt *q;
	const char *h;
	size_t i;
	int rc;

	if ((q = store_stmt(s, metrics_sql_sources)) == NULL)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		for (i = 0; i < 4; i++)
			if ((h = store_col_text(q, 0)) != NULL &&
			    strcmp(h, healths[i]) == 0)
				n[i] = (uint64_t)sqlite3_column_int64(q, 1);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	if (metrics_head(out, "heard_sources", "gauge", "Sources by health.")
	    == -1)
		return -1;
	for (i = 0; i < 4; i++)
		if (buf_printf(out, "heard_sources{health=\"%s\"} %" PRIu64
		    "\n", healths[i], n[i]) == -1)
			return -1;
	return 0;
}

static int
metrics_mails(struct store *s, struct buf *out)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	if ((q = store_stmt(s, metrics_sql_mails)) == NULL)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (n < 0)
		return -1;
	if (metrics_head(out, "heard_mails_sent_total", "counter",
	    "Mails handed to the SMTP server (as the store records them).")
	    == -1)
		return -1;
	return buf_printf(out, "heard_mails_sent_total %" PRId64 "\n", n);
}

static int
metrics_counters(const struct metrics *m, struct buf *out)
{
	if (metrics_head(out, "heard_polls_total", "counter",
	    "Polls of a source finished, by result.") == -1 ||
	    buf_printf(out, "heard_polls_total{result=\"ok\"} %" PRIu64 "\n"
	    "heard_polls_total{result=\"error\"} %" PRIu64 "\n",
	    m->polls_ok, m->polls_error) == -1)
		return -1;
	if (metrics_head(out, "heard_items_stored_total", "counter",
	    "Messages stored new or changed by polls.") == -1 ||
	    buf_printf(out, "heard_items_stored_total %" PRIu64 "\n",
	    m->items_stored) == -1)
		return -1;
	if (metrics_head(out, "heard_replies_relayed_total", "counter",
	    "Staff replies posted to a channel by heard, by result.") == -1 ||
	    buf_printf(out, "heard_replies_relayed_total{result=\"posted\"} %"
	    PRIu64 "\nheard_replies_relayed_total{result=\"failed\"} %"
	    PRIu64 "\n", m->replies_posted, m->replies_failed) == -1)
		return -1;
	return 0;
}

static int
metrics_requests(const struct metrics *m, struct buf *out)
{
	uint64_t cum = 0;
	size_t i;

	if (metrics_head(out, "heard_http_requests_total", "counter",
	    "HTTP requests answered, by status class.") == -1)
		return -1;
	for (i = 0; i < 4; i++)
		if (buf_printf(out, "heard_http_requests_total{code=\"%s\"} %"
		    PRIu64 "\n", metrics_classes[i], m->http[i]) == -1)
			return -1;
	if (metrics_head(out, "heard_http_request_duration_seconds",
	    "histogram", "Time from a request's arrival to its answer.") == -1)
		return -1;
	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += m->http_buckets[i];
		if (buf_printf(out, "heard_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %" PRIu64 "\n", metrics_bounds[i], cum) == -1)
			return -1;
	}
	return buf_printf(out, "heard_http_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %" PRIu64 "\n"
	    "heard_http_request_duration_seconds_sum %.6f\n"
	    "heard_http_request_duration_seconds_count %" PRIu64 "\n",
	    m->http_count, m->http_seconds, m->http_count);
}

int
metrics_render(const struct metrics *m, struct store *s, struct buf *out)
{
	if (metrics_sources(s, out) == -1 || metrics_counters(m, out) == -1 ||
	    metrics_mails(s, out) == -1 || metrics_requests(m, out) == -1)
		return -1;
	return 0;
}

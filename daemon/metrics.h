/* metrics: the daemon's counters and their Prometheus text (/metrics). */
#ifndef HEARD_METRICS_H
#define HEARD_METRICS_H

#include <stdint.h>

struct buf;
struct store;

/* Upper bounds, in seconds, of the request-duration histogram. */
#define METRICS_BUCKETS	11

/*
 * Counters since start; the loop is single-threaded, so plain
 * integers. Gauges and counts that live in the store (sources by
 * health, mails sent) are read at scrape time instead.
 */
struct metrics {
	uint64_t	polls_ok;
	uint64_t	polls_error;
	uint64_t	items_stored;	/* new or changed messages */
	uint64_t	replies_posted;
	uint64_t	replies_failed;
	uint64_t	http[4];	/* answers 2xx, 3xx, 4xx, 5xx */
	uint64_t	http_buckets[METRICS_BUCKETS];	/* not cumulative */
	uint64_t	http_count;
	double		http_seconds;
};

/* One HTTP answer with its status and how long it took. */
void	metrics_http(struct metrics *, int status, double seconds);
/*
 * Appends the Prometheus text exposition (format 0.0.4) of m and of
 * what the store counts; -1 if the store cannot be read or out is
 * full.
 */
int	metrics_render(const struct metrics *, struct store *,
	    struct buf *out);

#endif

/* api_threads: the API's threads: list, view, reads, replies, actions. */
#ifndef HEARD_API_THREADS_H
#define HEARD_API_THREADS_H

struct api_req;
struct api_resp;

/* GET /api/v1/threads, /threads/counts, /threads/{id}. */
int	api_threads_list(struct api_req *, struct api_resp *);
int	api_threads_counts(struct api_req *, struct api_resp *);
int	api_threads_get(struct api_req *, struct api_resp *);
/* POST and DELETE /api/v1/threads/{id}/read. */
int	api_threads_read(struct api_req *, struct api_resp *);
int	api_threads_unread(struct api_req *, struct api_resp *);
/* POST /api/v1/threads/{id}/replies. */
int	api_threads_reply(struct api_req *, struct api_resp *);
/* POST .../status, .../assign, .../severity, .../hide, .../unhide; PUT .../tags. */
int	api_threads_status(struct api_req *, struct api_resp *);
int	api_threads_assign(struct api_req *, struct api_resp *);
int	api_threads_severity(struct api_req *, struct api_resp *);
int	api_threads_tags(struct api_req *, struct api_resp *);
int	api_threads_hide(struct api_req *, struct api_resp *);
int	api_threads_unhide(struct api_req *, struct api_resp *);

#endif

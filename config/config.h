/* config: heard's settings, their defaults and the INI file that sets them. */
#ifndef HEARD_CONFIG_H
#define HEARD_CONFIG_H

#include <stddef.h>

struct config {
	char	*path;		/* owned; file it came from, or NULL */
	/* [store] */
	char	*db_path;	/* owned */
	/* [http] */
	char	*listen;	/* owned; "127.0.0.1:8080" */
	char	*base_url;	/* owned; where staff open the web inbox */
	char	*web_root;	/* owned or NULL: the shipped web/ */
	long	 http_max_body;	/* bytes of a request body */
	long	 session_ttl;	/* seconds a log-in lasts unused */
	int	 cookie_secure;	/* Secure cookies: behind TLS */
	long	 login_per_min;	/* failed log-ins per address a minute */
	/* [poll] */
	long	 poll_interval;	/* seconds between polls of a source */
	long	 poll_jitter;	/* up to this many seconds added */
	long	 backoff_base;	/* first wait after a failure */
	long	 backoff_max;	/* ceiling; polling never gives up */
	long	 per_host;	/* transfers at once to one host */
	long	 max_transfers;	/* transfers at once in all */
	long	 timeout;	/* seconds for a whole transfer */
	long	 connect_timeout;
	long	 max_body;	/* bytes */
	long	 max_redirects;
	long	 resync;	/* seconds between re-reads of the sources */
	char	*user_agent;	/* owned */
	char	*ca_file;	/* owned or NULL: system CAs */
	int	 allow_file_urls;	/* file:// sources (the demo) */
	/* [mail] */
	char	*smtp_url;	/* owned or NULL: no mail is sent */
	char	*smtp_user;	/* owned or NULL: no AUTH */
	char	*smtp_password_file;	/* owned or NULL */
	int	 smtp_starttls;	/* insist on STARTTLS for smtp:// */
	char	*mail_from;	/* owned or NULL */
	char	*reply_domain;	/* owned or NULL */
	char	*secret_file;	/* owned or NULL: HMAC key for reply tokens */
	long	 mail_per_hour;	/* notification mails per user an hour */
	long	 digest_hour;	/* local hour the daily digest goes */
	char	*imap_url;	/* owned or NULL: no IMAP polling */
	char	*imap_user;	/* owned or NULL */
	char	*imap_password_file;	/* owned or NULL */
	long	 imap_interval;	/* seconds between two looks */
	/* [log] */
	int	 log_level;	/* enum log_level */
};

/* Fills every field with its default. */
void	config_defaults(struct config *);
void	config_free(struct config *);
/*
 * Loads the file over the defaults. On error returns -1, leaves out
 * untouched and writes "file:line: reason" into err.
 */
int	config_load(const char *path, struct config *out, char *err,
	    size_t errlen);
/*
 * Reads an [http] listen value: "IPv4:port" or "[IPv6]:port", numeric
 * (no name lookups), port 1 to 65535. 0 and the address in ss (a
 * struct sockaddr_storage) and *len; -1 with the reason in why.
 */
struct sockaddr_storage;
int	config_listen_addr(const char *v, struct sockaddr_storage *ss,
	    unsigned int *len, char *why, size_t whylen);
/* Prints the effective configuration as an INI file (for --help). */
void	config_print(const struct config *, void *stdio_file);

#endif

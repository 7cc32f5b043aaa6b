/* cmd: the command table; one file per command (cmd_<name>.c). */
#ifndef HEARD_CMD_H
#define HEARD_CMD_H

struct heard;

enum cmd_needs {
	CMD_NEEDS_CONFIG = 0,	/* config only */
	CMD_NEEDS_STORE = 1,	/* config and an open database */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	const char	*help;		/* one line */
	const char	*more;		/* longer --help text, or NULL */
	enum cmd_needs	 needs;
	int		 setup_fail;	/* exit status when the config or
					   the store cannot be opened; 0: 1
					   (an MTA pipe wants "try again") */
	/* argv[0] is the command name; returns the exit status. */
	int		(*exec)(struct heard *, int argc, char **argv);
};

extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_check_config_entry;
extern const struct cmd_entry cmd_orgs_entry;
extern const struct cmd_entry cmd_connectors_entry;
extern const struct cmd_entry cmd_sources_entry;
extern const struct cmd_entry cmd_poll_entry;
extern const struct cmd_entry cmd_threads_entry;
extern const struct cmd_entry cmd_thread_entry;
extern const struct cmd_entry cmd_reply_entry;
extern const struct cmd_entry cmd_users_entry;
extern const struct cmd_entry cmd_mail_in_entry;

/* NULL-terminated, in the order --help lists them. */
extern const struct cmd_entry *const cmd_table[];

const struct cmd_entry	*cmd_find(const char *name);
/* Prints "usage: heard NAME USAGE" and the help to f. */
void			 cmd_usage(const struct cmd_entry *, void *stdio_file);
/* 1 if argv holds -h or --help. */
int			 cmd_wants_help(int argc, char **argv);
/* One-line reason on stderr, as every failing command ends; returns 1. */
int			 cmd_fail(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2)));

#endif

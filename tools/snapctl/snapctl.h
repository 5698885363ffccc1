/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapctl - shared declarations of the command modules
 *
 *   snapctl.c       main, the command table, help and option helpers
 *   ctl.c           the control device: open, ioctls, error explanations
 *   util.c          messages, devices, sizes and times
 *   output.c        the snapshot table (libsmartcols), JSON helpers
 *   cmd_origin.c    attach, detach, status
 *   cmd_snapshot.c  create, delete, list
 *   cmd_freeze.c    freeze, thaw
 *   cmd_version.c   version
 */
#ifndef SNAPCTL_H
#define SNAPCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/volsnap.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))

/* Exit codes (documented in snapctl --help and the man page). */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the operation failed */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NOMOD	= 3,	/* module not loaded / control device missing */
};

/* Options that shape the output, set by the global and command options. */
struct global_opts {
	bool json;		/* -J: JSON instead of text */
	bool raw;		/* -r: raw table, no alignment */
	bool noheadings;	/* -n: no table header */
};

extern struct global_opts opts;
extern const char *prog;

/* snapctl.c: commands */

/**
 * struct command - one snapctl command
 * @name: what the user types.
 * @fn: the handler; gets argv with the command name at argv[0] and
 *	returns an exit code.
 * @args: its synopsis after the name, for the help texts.
 * @summary: one line for snapctl --help.
 * @help: description and options for snapctl COMMAND --help.
 * @more_help: prints more of that help after @help, or %NULL.
 */
struct command {
	const char *name;
	int (*fn)(const struct command *cmd, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help;
	void (*more_help)(FILE *out);
};

extern const struct command cmd_attach, cmd_detach, cmd_status;
extern const struct command cmd_create, cmd_delete, cmd_list;
extern const struct command cmd_freeze, cmd_thaw;
extern const struct command cmd_version;

int cmd_getopt(const struct command *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);
int cmd_nargs(const struct command *cmd, int argc, char **argv,
	      int min, int max);
int cmd_usage(const struct command *cmd, const char *fmt, ...) __printf(2, 3);

/* util.c: messages, devices, sizes and times */
void errx_errno(int err, const char *fmt, ...) __printf(2, 3);
const char *errno_name(int err);
void __noreturn oom(void);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);

int dev_lookup(const char *path, dev_t *devno);
char *dev_name(dev_t devno);
char *image_name(unsigned int index);
char *dev_fstype(const char *devname);
char *dev_mountpoint(dev_t devno);

int parse_size(const char *s, unsigned long long *bytes);
void format_size(unsigned long long bytes, char *buf, size_t len);
void format_time(unsigned long long ns, bool utc, char *buf, size_t len);

/* ctl.c: the control device */

/* Why a command failed with an errno, as the user should read it. */
struct errmsg {
	int err;
	const char *reason;
};

/* The control device. */
#define CTL_PATH	"/dev/" VOLSNAP_CTL_NAME

int ctl_open(void);
int ctl_ioctl(int fd, unsigned long req, void *arg);
void ctl_error(int err, const char *object, const struct errmsg *msgs,
	       const char *fallback);
int ctl_list(int fd, struct volsnap_origin_info **origins, unsigned int *count);
int ctl_status(int fd, dev_t devno, struct volsnap_origin_info *origin,
	       struct volsnap_snapshot_info **snaps, unsigned int *count);

/* output.c: the snapshot table and JSON */
struct libscols_table;

int output_set_columns(const char *list);
void output_columns_help(FILE *out);
struct libscols_table *snaptab_new(void);
void snaptab_add(struct libscols_table *tb, const char *origin,
		 const struct volsnap_snapshot_info *si);
void snaptab_print(struct libscols_table *tb);
char *snaptab_json_members(struct libscols_table *tb);
const char *snap_reason(const struct volsnap_snapshot_info *si);
void json_string(const char *s);

#endif /* SNAPCTL_H */

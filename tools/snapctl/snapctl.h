/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapctl - shared declarations of the command modules
 *
 *   snapctl.c       main, the command table, help and option helpers
 *   ctl.c           the control device: open, ioctls, error explanations
 *   util.c          messages, devices, sizes and times
 *   image.c         snapshots named by their image, what changed
 *   output.c        the tables of list and status (libsmartcols)
 *   cmd_origin.c    attach, detach, status
 *   cmd_snapshot.c  create, delete, list
 *   cmd_freeze.c    freeze, thaw
 *   cmd_clone.c     clone
 *   cmd_verify.c    verify
 *   cmd_export.c    export
 *   cmd_version.c   version
 *   writers.c       writers around create, backup-complete
 *   cmd_monitor.c   monitor (events), set
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
	bool bytes;		/* -b: sizes in bytes, fill as a number */
};

extern struct global_opts opts;
extern const char *prog;
extern const char *cmd_name;	/* the running command, for messages */

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

/* The options every listing command takes, for cmd_getopt(). */
#define LISTING_SHORTOPTS "Jrnbo:"
extern const struct option listing_longopts[];
#define LISTING_HELP \
	"  -o, --output COLS  columns to show, separated by commas, any case;\n" \
	"                     +COLS adds them to the default columns\n" \
	"  -n, --noheadings   no header line\n" \
	"  -r, --raw          raw output: not aligned, unsafe characters escaped\n" \
	"  -J, --json         JSON output (sizes in bytes)\n" \
	"  -b, --bytes        sizes in bytes and the store fill as a number\n"

extern const struct command cmd_attach, cmd_detach, cmd_status;
extern const struct command cmd_create, cmd_delete, cmd_list;
extern const struct command cmd_freeze, cmd_thaw;
extern const struct command cmd_clone;
extern const struct command cmd_verify;
extern const struct command cmd_export;
extern const struct command cmd_version;
extern const struct command cmd_diff, cmd_revert, cmd_writable;
extern const struct command cmd_backup_complete;
extern const struct command cmd_monitor, cmd_set;
int origin_set_threshold(int fd, dev_t devno, unsigned int pct);
int threshold_arg(const struct command *cmd, const char *s, unsigned int *pct);
bool revert_busy(dev_t origin, char *buf, size_t len);
void print_versions(void);

int cmd_getopt(const struct command *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);
int cmd_nargs(const struct command *cmd, int argc, char **argv,
	      int min, int max);
int cmd_usage(const struct command *cmd, const char *fmt, ...) __printf(2, 3);
struct listing;
int listing_option(const struct command *cmd, const struct listing *l, int c);

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
void format_size_short(unsigned long long bytes, char *buf, size_t len);
void format_time(unsigned long long ns, bool utc, char *buf, size_t len);

/* Bytes done, rate and ETA on standard error while it is a terminal. */
struct progress {
	bool on;
	const char *what;
	unsigned long long total, done;
	double t0, last;
};

double now(void);
void progress_start(struct progress *p, const char *what,
		    unsigned long long total);
void progress_add(struct progress *p, unsigned long long bytes);
void progress_end(struct progress *p);
int read_full(int fd, void *buf, size_t len, off_t off);
int write_full(int fd, const void *buf, size_t len, off_t off);

/* ctl.c: the control device */

/* Why a command failed with an errno, as the user should read it. */
struct errmsg {
	int err;
	const char *reason;
};

/* The control device. */
#define CTL_PATH	"/dev/" VOLSNAP_CTL_NAME

int ctl_open(void);
int ctl_try_open(void);
int ctl_open_error(int err);
int ctl_ioctl(int fd, unsigned long req, void *arg);
void ctl_error(int err, const char *object, const struct errmsg *msgs,
	       const char *fallback);
int ctl_list(int fd, struct volsnap_origin_info **origins, unsigned int *count);
int ctl_status(int fd, dev_t devno, struct volsnap_origin_info *origin,
	       struct volsnap_snapshot_info **snaps, unsigned int *count);

/* image.c: snapshots named by their image, and what changed between two */

/* A snapshot, as the module reports it. */
struct snap_ref {
	dev_t origin;				/* its origin's device number */
	struct volsnap_origin_info origin_info;	/* the origin's state */
	struct volsnap_snapshot_info info;	/* id, image, state, ... */
	char *image;				/* /dev/volsnapN (snap_lookup) */
};

/* A run of bytes. */
struct byte_extent {
	unsigned long long offset;
	unsigned long long length;
};

/* What snap_diff() found. */
struct snap_diff {
	struct byte_extent *ext;	/* ascending, merged */
	size_t nr, cap;
	unsigned long long total;	/* bytes in all extents */
	unsigned int chunk_size;
	unsigned long long from_bytes;	/* size of the earlier point */
	unsigned long long to_bytes;	/* size of the later point */
};

long image_index(const char *path);
int snap_find(int fd, unsigned int index, struct snap_ref *ref);
int snap_lookup(int fd, const char *path, struct snap_ref *ref);
int snap_diff(int fd, const struct snap_ref *from, const struct snap_ref *to,
	      struct snap_diff *d);

/* output.c: the tables of list and status */
struct libscols_table;

/* Columns of the listings; the origin's first, then the snapshot's. */
enum {
	COL_ORIGIN,
	COL_SIZE,
	COL_FSTYPE,
	COL_MOUNTPOINT,
	COL_STORE,
	COL_CHUNK_SIZE,
	COL_STORE_SIZE,
	COL_STORE_USED,
	COL_FILL,
	COL_FROZEN,
	COL_TIMED_OUT,
	COL_REVERTING,
	COL_NR_SNAPS,
	COL_THRESHOLD,
	COL_ID,
	COL_SET,
	COL_DEVICE,
	COL_CREATED,
	COL_STATE,
	COL_WRITABLE,
	COL_REASON,
	COL_CHUNKS,
	COL_ALONE,
	COL_SHARED,
};

/**
 * struct listing - a command that prints a table
 * @command: its name, for messages.
 * @table: the table's name, the JSON array that holds its rows.
 * @snapshots: rows are snapshots, and the snapshot columns are valid.
 * @defaults: the columns shown without -o.
 * @ndefaults: their number.
 */
struct listing {
	const char *command;
	const char *table;
	bool snapshots;
	const int *defaults;
	size_t ndefaults;
};

/* An attached origin, as the rows of a table show it. */
struct origin_row {
	struct volsnap_origin_info info;
	char *name;		/* its /dev name */
	char *store;		/* its store's /dev name */
	char *fstype;		/* NULL when none or not asked for */
	char *mountpoint;	/* NULL when not mounted or not asked for */
};

int output_set_columns(const struct listing *l, const char *list);
void output_columns_help(const struct listing *l, FILE *out);
bool output_has_column(int col);
struct libscols_table *output_new(const struct listing *l);
void output_add(struct libscols_table *tb, const struct origin_row *o,
		const struct volsnap_snapshot_info *si);
void output_print(struct libscols_table *tb);
void origin_row_init(struct origin_row *o, dev_t devno,
		     const struct volsnap_origin_info *info);
void origin_row_free(struct origin_row *o);
const char *snap_reason(const struct volsnap_snapshot_info *si);
void json_string(const char *s);

/* cmd_snapshot.c: what create prints */
void create_print_one(const struct volsnap_create *cr, dev_t devno);
void create_print_set(const struct volsnap_create_set *cs,
		      const struct volsnap_create *m, unsigned int n);

/* writers.c: writers around create, and backup-complete */
#define WRITERS_DIR		"/etc/volsnap/writers.d"
#define WRITER_TIMEOUT_S	60	/* default --prepare-timeout, --timeout */
#define WRITER_LINE_MAX		4096	/* a writer's output line, at most */

/**
 * struct writers - the writers one command runs
 * @dir: their directory; %NULL: none (--no-writers).
 * @explicit: @dir was given (--writers): it must exist.
 * @names: the writers' file names, in the order they run.
 * @n: how many.
 */
struct writers {
	const char *dir;
	bool explicit;
	char **names;
	unsigned int n;
};

int writers_load(struct writers *w);
void writers_free(struct writers *w);
int parse_seconds(const char *s, unsigned long long *secs);
int create_with_writers(const struct writers *w, const dev_t *devs,
			char *const *args, unsigned int n, unsigned int flags,
			unsigned long long prepare_s);

#endif /* SNAPCTL_H */

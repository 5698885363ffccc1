/* SPDX-License-Identifier: GPL-2.0 */
/* snapctl - shared declarations of the command modules */
#ifndef SNAPCTL_H
#define SNAPCTL_H

#include <stdbool.h>

#include <linux/volsnap.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* Exit codes (documented in snapctl --help and the man page). */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the operation failed */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NOMOD	= 3,	/* module not loaded / control device missing */
};

struct global_opts {
	bool json;
};

extern struct global_opts opts;
extern const char *prog;

int ctl_open(void);
int ctl_ioctl(int fd, unsigned long cmd, void *arg, const char *what);
void errx_errno(int err, const char *fmt, ...) __printf(2, 3);
void json_string(const char *s);
const char *errno_name(int err);

#endif /* SNAPCTL_H */

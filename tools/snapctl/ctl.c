// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - the control device
 *
 * Every command goes through /dev/volsnap-ctl. The wrappers here return
 * -errno and print nothing; ctl_error() turns an errno into the message a
 * user can act on, from the command's own table of documented errnos.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "snapctl.h"

/* Errnos that mean the same for every command. */
static const struct errmsg common_errors[] = {
	{ EPERM, "need CAP_SYS_ADMIN (run as root)" },
	{ EACCES, "need CAP_SYS_ADMIN (run as root)" },
	{ ENOTTY, "the loaded volsnap module does not know this command (too old?)" },
	{ 0, NULL },
};

/* Open the control device: its fd, or -errno. */
int ctl_try_open(void)
{
	int fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);

	return fd >= 0 ? fd : -errno;
}

/* Explain why the control device did not open; the exit code. */
int ctl_open_error(int err)
{
	if (err == ENOENT || err == ENXIO || err == ENODEV) {
		errx_errno(err, "%s: volsnap module not loaded (load it: modprobe volsnap)",
			   CTL_PATH);
		return EXIT_NOMOD;
	}
	ctl_error(err, CTL_PATH, NULL, NULL);
	return EXIT_FAIL;
}

/* Open the control device, or explain why it cannot be opened and exit. */
int ctl_open(void)
{
	int fd = ctl_try_open();

	if (fd >= 0)
		return fd;
	exit(ctl_open_error(-fd));
}

/* ioctl(2) on the control device; returns 0 or -errno. */
int ctl_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static const char *lookup(const struct errmsg *msgs, int err)
{
	for (; msgs && msgs->reason; msgs++)
		if (msgs->err == err)
			return msgs->reason;
	return NULL;
}

/**
 * ctl_error() - report a failed command
 * @err: the errno, positive or negative.
 * @object: what the command was about, usually the path the user gave.
 * @msgs: the command's reasons for its documented errnos, ended by a
 *	%NULL reason; may be %NULL.
 * @fallback: the reason when neither @msgs nor the common table knows
 *	@err; may be %NULL for none.
 *
 * Prints "snapctl: OBJECT: REASON: strerror (ERRNO)".
 */
void ctl_error(int err, const char *object, const struct errmsg *msgs,
	       const char *fallback)
{
	const char *reason;

	if (err < 0)
		err = -err;
	reason = lookup(msgs, err);
	if (!reason)
		reason = lookup(common_errors, err);
	if (!reason)
		reason = fallback;
	if (reason)
		errx_errno(err, "%s: %s", object, reason);
	else
		errx_errno(err, "%s", object);
}

static int cmp_origin(const void *a, const void *b)
{
	const struct volsnap_origin_info *x = a, *y = b;

	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return 0;
}

/**
 * ctl_list() - the attached origins, in device number order
 * @fd: the control device.
 * @origins: out: a malloc()ed array, to free().
 * @count: out: its length.
 *
 * Return: 0 or -errno of %VOLSNAP_IOC_LIST.
 */
int ctl_list(int fd, struct volsnap_origin_info **origins, unsigned int *count)
{
	struct volsnap_origin_info *buf = NULL;
	unsigned int cap = 0;
	int ret;

	for (;;) {
		struct volsnap_list l = {
			.count = cap,
			.origins = (uintptr_t)buf,
		};

		ret = ctl_ioctl(fd, VOLSNAP_IOC_LIST, &l);
		if (ret) {
			free(buf);
			return ret;
		}
		if (l.count <= cap) {
			qsort(buf, l.count, sizeof(*buf), cmp_origin);
			*origins = buf;
			*count = l.count;
			return 0;
		}
		/* Origins came and went: room for what is there, and more. */
		cap = l.count + 4;
		buf = xrealloc(buf, cap * sizeof(*buf));
	}
}

/**
 * ctl_status() - one origin's state and its snapshots
 * @fd: the control device.
 * @devno: the origin.
 * @origin: out: its state.
 * @snaps: out: a malloc()ed array of its snapshots in id order, to free().
 * @count: out: its length.
 *
 * Return: 0 or -errno of %VOLSNAP_IOC_STATUS (-ENODEV: not attached).
 */
int ctl_status(int fd, dev_t devno, struct volsnap_origin_info *origin,
	       struct volsnap_snapshot_info **snaps, unsigned int *count)
{
	struct volsnap_snapshot_info *buf = NULL;
	unsigned int cap = 0;
	int ret;

	for (;;) {
		struct volsnap_status st = {
			.major = major(devno),
			.minor = minor(devno),
			.count = cap,
			.snapshots = (uintptr_t)buf,
		};

		ret = ctl_ioctl(fd, VOLSNAP_IOC_STATUS, &st);
		if (ret) {
			free(buf);
			return ret;
		}
		if (st.count <= cap) {
			*origin = st.origin;
			*snaps = buf;
			*count = st.count;
			return 0;
		}
		cap = st.count + 4;
		buf = xrealloc(buf, cap * sizeof(*buf));
	}
}

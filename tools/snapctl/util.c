// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - messages, devices, sizes and times
 *
 * Device names come from libblkid (device number to /dev name, filesystem
 * type) and libmount (mount points); nothing here parses /proc by hand.
 * Also the progress line and the whole-buffer reads and writes of the
 * commands that copy data (clone, revert).
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <blkid.h>
#include <libmount.h>

#include "snapctl.h"

const char *errno_name(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ ENXIO, "ENXIO" }, { EBADF, "EBADF" }, { EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" }, { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" },
		{ EROFS, "EROFS" }, { ENOTTY, "ENOTTY" }, { ENOTBLK, "ENOTBLK" },
		{ ERANGE, "ERANGE" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EALREADY, "EALREADY" },
		{ ESTALE, "ESTALE" }, { EINTR, "EINTR" }, { E2BIG, "E2BIG" },
		{ EOVERFLOW, "EOVERFLOW" }, { EXDEV, "EXDEV" }, { EMLINK, "EMLINK" },
		{ EPIPE, "EPIPE" }, { ELOOP, "ELOOP" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { EMFILE, "EMFILE" },
		{ ENFILE, "ENFILE" }, { EISDIR, "EISDIR" },
		{ ENOMEDIUM, "ENOMEDIUM" }, { EMEDIUMTYPE, "EMEDIUMTYPE" },
		{ ENODATA, "ENODATA" }, { ETXTBSY, "ETXTBSY" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

/*
 * Print "snapctl COMMAND: <message>: <strerror> (<ERRNO>)" to stderr
 * ("snapctl: ..." before the command is known).
 */
void errx_errno(int err, const char *fmt, ...)
{
	va_list ap;

	if (cmd_name)
		fprintf(stderr, "%s %s: ", prog, cmd_name);
	else
		fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s (%s)", strerror(err), errno_name(err));
	fputc('\n', stderr);
}

void oom(void)
{
	errx_errno(ENOMEM, "out of memory");
	exit(EXIT_FAIL);
}

void *xrealloc(void *ptr, size_t size)
{
	ptr = realloc(ptr, size ? size : 1);
	if (!ptr)
		oom();
	return ptr;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

/**
 * dev_lookup() - the device number of a block device argument
 * @path: the path the user gave.
 * @devno: out: its device number.
 *
 * Return: 0, or -1 after "snapctl: PATH: ..." was printed.
 */
int dev_lookup(const char *path, dev_t *devno)
{
	struct stat st;

	if (stat(path, &st)) {
		errx_errno(errno, "%s", path);
		return -1;
	}
	if (!S_ISBLK(st.st_mode)) {
		errx_errno(ENOTBLK, "%s", path);
		return -1;
	}
	*devno = st.st_rdev;
	return 0;
}

/* The /dev name of a block device, or "MAJ:MIN" when it has none. */
char *dev_name(dev_t devno)
{
	char *name = blkid_devno_to_devname(devno);
	char buf[32];

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%u:%u", major(devno), minor(devno));
	return xstrdup(buf);
}

/* The image device of a snapshot, /dev/volsnapN. */
char *image_name(unsigned int index)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "/dev/volsnap%u", index);
	return xstrdup(buf);
}

/* The filesystem type on a device as libblkid probes it, or NULL. */
char *dev_fstype(const char *devname)
{
	blkid_probe pr = blkid_new_probe_from_filename(devname);
	const char *type;
	char *ret = NULL;

	if (!pr)
		return NULL;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) == 0 &&
	    blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
		ret = xstrdup(type);
	blkid_free_probe(pr);
	return ret;
}

/*
 * Where a device is mounted, or NULL. Of several mounts (bind mounts,
 * subvolumes) the first one of the filesystem's root wins.
 */
char *dev_mountpoint(dev_t devno)
{
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *itr = mnt_new_iter(MNT_ITER_FORWARD);
	const char *found = NULL;
	struct libmnt_fs *fs;
	char *ret = NULL;

	if (!tb || !itr)
		oom();
	if (mnt_table_parse_mtab(tb, NULL))
		goto out;
	while (mnt_table_next_fs(tb, itr, &fs) == 0) {
		const char *root = mnt_fs_get_root(fs);

		if (mnt_fs_get_devno(fs) != devno)
			continue;
		if (!found || (root && !strcmp(root, "/"))) {
			found = mnt_fs_get_target(fs);
			if (root && !strcmp(root, "/"))
				break;
		}
	}
	if (found)
		ret = xstrdup(found);
out:
	mnt_free_iter(itr);
	mnt_unref_table(tb);
	return ret;
}

/**
 * parse_size() - parse a size in bytes
 * @s: "4096", "4k", "64K", "1M", "1MiB", ...: a decimal number with an
 *	optional binary unit K, M or G (KiB, MiB, GiB), any case.
 * @bytes: out: the size.
 *
 * Return: 0, -EINVAL for a malformed size, -ERANGE when it overflows.
 */
int parse_size(const char *s, unsigned long long *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k':
			shift = 10;
			break;
		case 'm':
			shift = 20;
			break;
		case 'g':
			shift = 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (!strcasecmp(end, "ib"))
			end += 2;
		if (*end)
			return -EINVAL;
	}
	if (v > ULLONG_MAX >> shift)
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

/*
 * "64 KiB", "1 GiB", "1.5 GiB", "512 B": exact multiples without decimals,
 * others with one (truncated).
 */
void format_size(unsigned long long bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned long long unit = 1, tenths;
	unsigned int i = 0;

	while (i + 1 < ARRAY_SIZE(units) && bytes / unit >= 1024) {
		unit <<= 10;
		i++;
	}
	tenths = (bytes % unit) / (unit / 10 ? unit / 10 : 1);
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu %s", bytes / unit, units[i]);
	else
		snprintf(buf, len, "%llu.%llu %s", bytes / unit,
			 tenths > 9 ? 9 : tenths, units[i]);
}

/*
 * A CLOCK_REALTIME time in nanoseconds as local "YYYY-MM-DD HH:MM:SS", or
 * with @utc as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ".
 */
void format_time(unsigned long long ns, bool utc, char *buf, size_t len)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;

	if (utc ? !gmtime_r(&t, &tm) : !localtime_r(&t, &tm)) {
		snprintf(buf, len, "%llu", ns / 1000000000ULL);
		return;
	}
	strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}

/*
 * A size as lsblk prints it: "512B", "64K", "1.5G": binary units, one
 * letter, one decimal rounded, none when it is zero.
 */
void format_size_short(unsigned long long bytes, char *buf, size_t len)
{
	static const char letters[] = "BKMGTPE";
	unsigned long long whole, frac;
	unsigned int exp = 0;

	while (exp + 1 < sizeof(letters) - 1 && bytes >> (10 * (exp + 1)))
		exp++;
	whole = bytes >> (10 * exp);
	frac = exp ? bytes & ((1ULL << (10 * exp)) - 1) : 0;
	if (frac) {
		/* tenths, rounded: frac / 2^(10 exp) * 10 */
		frac = ((frac >> (10 * (exp - 1))) + 51) / 102;
		if (frac >= 10) {
			whole++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(buf, len, "%llu.%llu%c", whole, frac, letters[exp]);
	else
		snprintf(buf, len, "%llu%c", whole, letters[exp]);
}

/* Seconds on the monotonic clock. */
double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start a progress line for @total bytes of @what, shown on a terminal. */
void progress_start(struct progress *p, const char *what,
		    unsigned long long total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	p->done = 0;
	p->t0 = now();
	p->last = 0;
}

/* Print the line again, at most 4 times a second. */
static void progress_show(struct progress *p)
{
	char done[32], total[32], rate[32], eta[32] = "";
	double t = now(), secs = t - p->t0, r;
	unsigned long long left;

	if (!p->on || t - p->last < 0.25)
		return;
	p->last = t;
	r = secs > 0 ? p->done / secs : 0;
	format_size(p->done, done, sizeof(done));
	format_size(p->total, total, sizeof(total));
	format_size((unsigned long long)r, rate, sizeof(rate));
	if (r >= 1 && p->done < p->total) {
		left = (p->total - p->done) / r;
		snprintf(eta, sizeof(eta), ", ETA %llu:%02llu:%02llu",
			 left / 3600, left / 60 % 60, left % 60);
	}
	fprintf(stderr, "\r\033[K%s: %s of %s (%llu%%), %s/s%s", p->what, done,
		total, p->total ? p->done * 100 / p->total : 100, rate, eta);
}

/* Count @bytes more done; show the line. */
void progress_add(struct progress *p, unsigned long long bytes)
{
	p->done += bytes;
	progress_show(p);
}

/* Clear the line. */
void progress_end(struct progress *p)
{
	if (p->on)
		fputs("\r\033[K", stderr);
}

/* pread @len bytes at @off, all of them: 0 or -errno (-EIO at the end). */
int read_full(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len) {
		n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		buf = (char *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

/*
 * pwrite all of @len bytes at @off: 0 or -errno. When O_DIRECT refuses the
 * alignment (EINVAL), the rest goes through the page cache.
 */
int write_full(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;
	int fl;

	while (len) {
		n = pwrite(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL) {
			fl = fcntl(fd, F_GETFL);
			if (fl >= 0 && (fl & O_DIRECT) &&
			    !fcntl(fd, F_SETFL, fl & ~O_DIRECT))
				continue;
		}
		if (n < 0)
			return -errno;
		if (!n)
			return -ENOSPC;
		buf = (const char *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - clone: an independent full copy of a snapshot's image
 *
 * The image is read with O_DIRECT in 1 MiB pieces. A block device target
 * is written in full (zeros by BLKZEROOUT, as it holds old data); a regular
 * file target is left sparse where the image reads zeros. With
 * --incremental FROM, the target holds a clone of the older snapshot FROM
 * and only the extents snap_diff() lists are written. Then the image and
 * the target are read again and compared.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include "snapctl.h"

#define CLONE_BUF	(1024 * 1024)	/* one read of the image */
#define CLONE_BLOCK	4096		/* the unit of zero detection */

/* What a run of zeros in the image becomes on the target. */
enum zero_mode {
	ZERO_SKIP,	/* nothing: a hole of a file truncated to the size */
	ZERO_PUNCH,	/* a hole punched into a file that holds old data */
	ZERO_DEVICE,	/* BLKZEROOUT on a block device */
};

/**
 * struct clone - one clone in progress
 * @image: the image as the user named it, for messages.
 * @target: the target as the user named it.
 * @ifd: the image, read-only, O_DIRECT where the kernel allows it.
 * @tfd: the target, read-write.
 * @size: the image's size in bytes.
 * @zero: what runs of zeros become.
 * @buf: a CLONE_BUF buffer aligned for O_DIRECT.
 * @buf2: another, for the comparison.
 * @written: bytes written or zeroed on the target (holes left alone in a
 *	file are not counted).
 * @pr: the progress line.
 */
struct clone {
	const char *image;
	const char *target;
	int ifd, tfd;
	unsigned long long size;
	enum zero_mode zero;
	unsigned char *buf, *buf2;
	unsigned long long written;
	struct progress pr;
};

/* Put @len bytes of zeros (in @zeros too) at @off on the target. */
static int zero_out(struct clone *c, const void *zeros, size_t len, off_t off)
{
	uint64_t range[2] = { off, len };
	int ret = 0;

	switch (c->zero) {
	case ZERO_SKIP:
		return 0;
	case ZERO_PUNCH:
		if (fallocate(c->tfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, len))
			ret = write_full(c->tfd, zeros, len, off);
		break;
	case ZERO_DEVICE:
		if ((off % 512) || (len % 512) ||
		    ioctl(c->tfd, BLKZEROOUT, range))
			ret = write_full(c->tfd, zeros, len, off);
		break;
	}
	if (!ret)
		c->written += len;
	return ret;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/* Report a failed read of the image or write of the target; -1. */
static int io_error(int err, const char *object, const char *what,
		    unsigned long long off)
{
	errx_errno(-err, "%s: cannot %s at byte %llu", object, what, off);
	return -1;
}

/**
 * copy_range() - copy bytes of the image to the target
 * @c: the clone.
 * @off: where they begin, a multiple of 512.
 * @len: how many.
 *
 * Runs of CLONE_BLOCK bytes that read zeros become what @c->zero says.
 *
 * Return: 0, or -1 after a message.
 */
static int copy_range(struct clone *c, unsigned long long off,
		      unsigned long long len)
{
	unsigned long long end = off + len;
	size_t n, i, j, run;
	bool zero;
	int ret;

	while (off < end) {
		n = end - off < CLONE_BUF ? end - off : CLONE_BUF;
		ret = read_full(c->ifd, c->buf, n, off);
		if (ret)
			return io_error(ret, c->image, "read", off);
		for (i = 0; i < n; i = j) {
			run = n - i < CLONE_BLOCK ? n - i : CLONE_BLOCK;
			zero = all_zero(c->buf + i, run);
			for (j = i + run; j < n; j += run) {
				run = n - j < CLONE_BLOCK ? n - j : CLONE_BLOCK;
				if (all_zero(c->buf + j, run) != zero)
					break;
			}
			if (zero) {
				ret = zero_out(c, c->buf + i, j - i, off + i);
			} else {
				ret = write_full(c->tfd, c->buf + i, j - i, off + i);
				c->written += j - i;
			}
			if (ret)
				return io_error(ret, c->target, "write", off + i);
		}
		off += n;
		progress_add(&c->pr, n);
	}
	return 0;
}

/* Read the image and the target again and compare: 0, or -1 after a message. */
static int verify(struct clone *c)
{
	unsigned long long off;
	size_t n, i;
	int ret;

	progress_start(&c->pr, "verify", c->size);
	for (off = 0; off < c->size; off += n) {
		n = c->size - off < CLONE_BUF ? c->size - off : CLONE_BUF;
		ret = read_full(c->ifd, c->buf, n, off);
		if (ret)
			return io_error(ret, c->image, "read", off);
		ret = read_full(c->tfd, c->buf2, n, off);
		if (ret)
			return io_error(ret, c->target, "read back", off);
		if (memcmp(c->buf, c->buf2, n)) {
			for (i = 0; c->buf[i] == c->buf2[i]; i++)
				;
			progress_end(&c->pr);
			errx_errno(EIO, "%s: differs from %s at byte %llu",
				   c->target, c->image, off + i);
			return -1;
		}
		progress_add(&c->pr, n);
	}
	progress_end(&c->pr);
	return 0;
}

/* The whole disk a partition is on, or @devno itself. */
static dev_t whole_disk(dev_t devno)
{
	char path[64], buf[32];
	unsigned int ma, mi;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition",
		 major(devno), minor(devno));
	if (access(path, F_OK))
		return devno;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev",
		 major(devno), minor(devno));
	f = fopen(path, "re");
	if (!f)
		return devno;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%u:%u", &ma, &mi) != 2) {
		fclose(f);
		return devno;
	}
	fclose(f);
	return makedev(ma, mi);
}

/* Whether @disk is a loop device over the file @file. */
static bool loop_over(dev_t disk, const struct stat *file)
{
	char path[64], name[PATH_MAX];
	bool ret = false;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file",
		 major(disk), minor(disk));
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(name, sizeof(name), f)) {
		name[strcspn(name, "\n")] = '\0';
		ret = !stat(name, &st) && st.st_dev == file->st_dev &&
		      st.st_ino == file->st_ino;
	}
	fclose(f);
	return ret;
}

/*
 * Whether writing @upper may change @lower, or with @file, the file @file:
 * they are one device, @upper is a partition of @lower, a loop device over
 * @file, or, through its partition's disk and the devices it is mapped
 * onto (/sys/block/X/slaves: dm, md), @upper sits on one of those.
 */
static bool dev_on(dev_t upper, dev_t lower, const struct stat *file,
		   int depth)
{
	char path[64], dpath[PATH_MAX], buf[32];
	unsigned int ma, mi;
	struct dirent *de;
	bool found = false;
	DIR *dir;
	FILE *f;

	if (file ? loop_over(whole_disk(upper), file) :
	    (upper == lower || whole_disk(upper) == lower))
		return true;
	if (depth > 8)
		return false;
	upper = whole_disk(upper);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/slaves",
		 major(upper), minor(upper));
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dpath, sizeof(dpath), "%s/%s/dev", path, de->d_name);
		f = fopen(dpath, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%u:%u", &ma, &mi) == 2)
			found = dev_on(makedev(ma, mi), lower, file, depth + 1);
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* Whether writing one of @a and @b may change the other. */
static bool dev_overlap(dev_t a, dev_t b)
{
	return dev_on(a, b, NULL, 0) || dev_on(b, a, NULL, 0);
}

/**
 * open_target() - open the target, after refusing the wrong ones
 * @c: the clone; @c->target and @c->size are set.
 * @ref: the snapshot cloned.
 * @image_dev: the image's device number.
 * @incremental: the target already holds a clone, of size @from_bytes.
 * @from_bytes: with @incremental, the size of the older snapshot.
 *
 * Sets @c->tfd and @c->zero. A new file is created; a file of a full
 * clone is emptied and given the image's size, which leaves it one hole.
 *
 * Return: 0, or -1 after a message.
 */
static int open_target(struct clone *c, const struct snap_ref *ref,
		       dev_t image_dev, bool incremental,
		       unsigned long long from_bytes)
{
	dev_t store = makedev(ref->origin_info.store_major,
			      ref->origin_info.store_minor);
	char have[32], want[32];
	unsigned long long tsize;
	char *origin, *mnt;
	struct stat st;
	int fd;

	if (stat(c->target, &st)) {
		if (errno != ENOENT) {
			errx_errno(errno, "%s", c->target);
			return -1;
		}
		if (incremental) {
			errx_errno(ENOENT, "%s: no clone of FROM to bring up to date",
				   c->target);
			return -1;
		}
		fd = open(c->target, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			errx_errno(errno, "%s: cannot create it", c->target);
			return -1;
		}
		goto file;
	}

	if (S_ISREG(st.st_mode)) {
		if (dev_on(ref->origin, 0, &st, 0)) {
			errx_errno(EINVAL, "%s: the origin of %s is a loop device over it",
				   c->target, c->image);
			return -1;
		}
		if (dev_on(store, 0, &st, 0)) {
			errx_errno(EINVAL, "%s: the shadow store of %s is a loop device over it",
				   c->target, c->image);
			return -1;
		}
		if (incremental && (unsigned long long)st.st_size != from_bytes) {
			format_size(st.st_size, have, sizeof(have));
			format_size(from_bytes, want, sizeof(want));
			errx_errno(EINVAL, "%s: its size %s is not that of FROM, %s: "
				   "not a clone of FROM", c->target, have, want);
			return -1;
		}
		fd = open(c->target, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			errx_errno(errno, "%s: cannot open it", c->target);
			return -1;
		}
		goto file;
	}
	if (!S_ISBLK(st.st_mode)) {
		errx_errno(EINVAL, "%s: not a block device or a regular file",
			   c->target);
		return -1;
	}

	if (st.st_rdev == image_dev) {
		errx_errno(EINVAL, "%s: is the image itself", c->target);
		return -1;
	}
	if (major(st.st_rdev) == major(image_dev)) {
		errx_errno(EROFS, "%s: is a snapshot image, which is read-only",
			   c->target);
		return -1;
	}
	if (dev_overlap(st.st_rdev, ref->origin)) {
		origin = dev_name(ref->origin);
		errx_errno(EINVAL, "%s: is the origin of %s (%s) or shares blocks with it",
			   c->target, c->image, origin);
		free(origin);
		return -1;
	}
	if (dev_overlap(st.st_rdev, store)) {
		origin = dev_name(store);
		errx_errno(EINVAL, "%s: is the shadow store of %s (%s) or shares blocks with it",
			   c->target, c->image, origin);
		free(origin);
		return -1;
	}
	fd = open(c->target, O_RDWR | O_EXCL | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL)
		fd = open(c->target, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		if (errno != EBUSY) {
			errx_errno(errno, "%s: cannot open it", c->target);
			return -1;
		}
		mnt = dev_mountpoint(st.st_rdev);
		if (mnt)
			errx_errno(EBUSY, "%s: mounted on %s (unmount it first)",
				   c->target, mnt);
		else
			errx_errno(EBUSY, "%s: in use (mounted, held by a device-mapper, "
				   "md or volsnap device, or opened exclusively)",
				   c->target);
		free(mnt);
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, &tsize)) {
		errx_errno(errno, "%s: cannot get its size", c->target);
		close(fd);
		return -1;
	}
	if (tsize < c->size) {
		format_size(tsize, have, sizeof(have));
		format_size(c->size, want, sizeof(want));
		errx_errno(ENOSPC, "%s: smaller (%s) than the image (%s)",
			   c->target, have, want);
		close(fd);
		return -1;
	}
	c->tfd = fd;
	c->zero = ZERO_DEVICE;
	return 0;

file:
	/* A full clone starts from one hole; an update keeps the data. */
	if ((!incremental && ftruncate(fd, 0)) || ftruncate(fd, c->size)) {
		errx_errno(errno, "%s: cannot set its size", c->target);
		close(fd);
		return -1;
	}
	c->tfd = fd;
	c->zero = incremental ? ZERO_PUNCH : ZERO_SKIP;
	return 0;
}

/* Open the image for reading: O_DIRECT where the kernel allows it. */
static int open_image(struct clone *c, dev_t *devno)
{
	struct stat st;

	c->ifd = open(c->image, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (c->ifd < 0 && errno == EINVAL)
		c->ifd = open(c->image, O_RDONLY | O_CLOEXEC);
	if (c->ifd < 0) {
		errx_errno(errno, "%s: cannot open it", c->image);
		return -1;
	}
	if (fstat(c->ifd, &st) || ioctl(c->ifd, BLKGETSIZE64, &c->size)) {
		errx_errno(errno, "%s: cannot get its size", c->image);
		return -1;
	}
	*devno = st.st_rdev;
	return 0;
}

static const struct errmsg diff_errors[] = {
	{ ENODEV, "its origin is no longer attached" },
	{ ENOENT, "FROM or IMAGE was deleted" },
	{ ESTALE, "FROM or IMAGE became invalid: what changed is not known" },
	{ 0, NULL },
};

/* Whether a snapshot can be read; says why not. */
static bool snap_valid(const struct snap_ref *ref, const char *path)
{
	if (!(ref->info.state & VOLSNAP_SNAP_INVALID))
		return true;
	errx_errno(EIO, "%s: the snapshot is invalid (%s)", path,
		   snap_reason(&ref->info));
	return false;
}

/* Print what was done, as text or JSON. */
static void report(const struct clone *c, const struct snap_ref *ref,
		   const char *from, const struct snap_diff *d, double secs,
		   bool verified)
{
	char size[32], written[32];

	if (opts.json) {
		fputs("{\"image\": ", stdout);
		json_string(ref->image);
		fputs(", \"target\": ", stdout);
		json_string(c->target);
		fputs(", \"from\": ", stdout);
		if (from)
			json_string(from);
		else
			fputs("null", stdout);
		printf(", \"bytes\": %llu, \"bytes_written\": %llu, \"extents\": ",
		       c->size, c->written);
		if (d)
			printf("%zu", d->nr);
		else
			fputs("null", stdout);
		printf(", \"seconds\": %.3f, \"verified\": %s}\n", secs,
		       verified ? "true" : "false");
		return;
	}
	format_size(c->size, size, sizeof(size));
	format_size(c->written, written, sizeof(written));
	if (d)
		printf("updated %s from %s to %s: %zu extents, %s written in %.1f s",
		       c->target, from, ref->image, d->nr, written, secs);
	else
		printf("cloned %s to %s: %s, %s written in %.1f s", ref->image,
		       c->target, size, written, secs);
	printf(", %s\n", verified ? "verified" : "not verified");
}

static int do_clone(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "incremental", required_argument, NULL, 'i' },
		{ "no-verify",   no_argument,       NULL, 'V' },
		{ "json",        no_argument,       NULL, 'J' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct clone c = { .ifd = -1, .tfd = -1 };
	struct snap_ref ref, from_ref;
	struct snap_diff d = { 0 };
	const char *from = NULL;
	bool check = true;
	int ctl, c_opt, ret = EXIT_FAIL;
	double t0, secs;
	dev_t image_dev;
	size_t i;

	while ((c_opt = cmd_getopt(cmd, argc, argv, "i:J", longopts)) != -1) {
		switch (c_opt) {
		case 'i':
			from = optarg;
			break;
		case 'V':
			check = false;
			break;
		case 'J':
			opts.json = true;
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 2, 2))
		return EXIT_USAGE;
	c.image = argv[optind];
	c.target = argv[optind + 1];

	ctl = ctl_open();
	if (snap_lookup(ctl, c.image, &ref) || !snap_valid(&ref, c.image))
		goto out_ctl;
	if (from) {
		if (snap_lookup(ctl, from, &from_ref) ||
		    !snap_valid(&from_ref, from))
			goto out_ctl;
		if (from_ref.origin != ref.origin) {
			errx_errno(EXDEV, "%s: not a snapshot of the origin of %s",
				   from, c.image);
			goto out_ctl;
		}
		if (from_ref.info.id >= ref.info.id) {
			errx_errno(EINVAL, "%s: not older than %s", from, c.image);
			goto out_ctl;
		}
	}
	if (open_image(&c, &image_dev))
		goto out_ctl;
	if (from) {
		ret = snap_diff(ctl, &from_ref, &ref, &d);
		if (ret) {
			ctl_error(ret, c.image, diff_errors,
				  "cannot list what changed since FROM");
			ret = EXIT_FAIL;
			goto out_image;
		}
		ret = EXIT_FAIL;
	}
	if (open_target(&c, &ref, image_dev, !!from, d.from_bytes))
		goto out_image;
	if (posix_memalign((void **)&c.buf, 4096, CLONE_BUF) ||
	    posix_memalign((void **)&c.buf2, 4096, CLONE_BUF))
		oom();

	t0 = now();
	if (from) {
		progress_start(&c.pr, "clone", d.total);
		for (i = 0; i < d.nr; i++)
			if (copy_range(&c, d.ext[i].offset, d.ext[i].length))
				break;
		if (i < d.nr)
			goto out_target;
	} else {
		progress_start(&c.pr, "clone", c.size);
		if (copy_range(&c, 0, c.size))
			goto out_target;
	}
	progress_end(&c.pr);
	if (fsync(c.tfd)) {
		errx_errno(errno, "%s: cannot flush it", c.target);
		goto out_target;
	}
	/* Compare with what the target holds, not with the page cache. */
	posix_fadvise(c.tfd, 0, 0, POSIX_FADV_DONTNEED);
	if (check && verify(&c))
		goto out_target;
	secs = now() - t0;
	report(&c, &ref, from ? from_ref.image : NULL, from ? &d : NULL, secs,
	       check);
	ret = EXIT_OK;

out_target:
	progress_end(&c.pr);
	close(c.tfd);
	free(c.buf);
	free(c.buf2);
out_image:
	close(c.ifd);
out_ctl:
	close(ctl);
	free(d.ext);
	return ret;
}

const struct command cmd_clone = {
	.name = "clone",
	.fn = do_clone,
	.args = "IMAGE TARGET [--incremental FROM] [--no-verify] [-J]",
	.summary = "copy the snapshot IMAGE onto a block device or into a file",
	.help =
	"Copy the snapshot image IMAGE (/dev/volsnapN, or a link to it) onto\n"
	"the block device TARGET, or into the regular file TARGET, created if\n"
	"missing. The copy is independent of the snapshot. Zeros are written\n"
	"to a block device; a file is left sparse where the image reads zeros.\n"
	"Refused: a block device smaller than the image, mounted or in use,\n"
	"the snapshot's origin or store or a device sharing blocks with them,\n"
	"a file a loop device under them is over, a snapshot image. Then the\n"
	"image and TARGET are read again and compared. On a terminal,\n"
	"progress is shown on standard error.\n"
	"\n"
	"With --incremental FROM, TARGET holds a clone of FROM, an older\n"
	"snapshot of the same origin: only the extents that changed between\n"
	"FROM and IMAGE are written, and TARGET then equals a clone of IMAGE.\n"
	"\n"
	"Options:\n"
	"  -i, --incremental FROM  update TARGET, a clone of FROM, to IMAGE\n"
	"      --no-verify         do not read back and compare\n"
	"  -J, --json              JSON output\n"
	"  -h, --help              show this help and exit\n",
};

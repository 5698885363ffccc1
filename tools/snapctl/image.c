// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - snapshots named by their image, and what changed between two
 *
 * Commands that work on a snapshot's data (diff, clone, revert, export)
 * take its image device, /dev/volsnapN or a link to it, and find the origin
 * and id behind it here. snap_diff() asks the module which chunks changed
 * between two points in time and returns them as byte extents.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "snapctl.h"

/* N of an image device path /dev/volsnapN (or a link to one), or -1. */
long image_index(const char *path)
{
	char *real = realpath(path, NULL);
	const char *base = strrchr(real ? real : path, '/');
	unsigned long n;
	long ret = -1;
	char *end;

	base = base ? base + 1 : real ? real : path;
	if (!strncmp(base, "volsnap", 7) && isdigit((unsigned char)base[7])) {
		errno = 0;
		n = strtoul(base + 7, &end, 10);
		if (!*end && !errno && n <= UINT_MAX)
			ret = n;
	}
	free(real);
	return ret;
}

/**
 * snap_find() - the snapshot whose image is /dev/volsnap@index
 * @fd: the control device.
 * @index: N of the image.
 * @ref: out: the snapshot.
 *
 * Return: 0, -ENOENT when no attached origin has such a snapshot, or the
 * -errno of listing them.
 */
int snap_find(int fd, unsigned int index, struct snap_ref *ref)
{
	struct volsnap_origin_info *origins, oi;
	struct volsnap_snapshot_info *snaps;
	unsigned int i, j, nr, count;
	int ret;

	ret = ctl_list(fd, &origins, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		dev_t devno = makedev(origins[i].major, origins[i].minor);

		ret = ctl_status(fd, devno, &oi, &snaps, &count);
		if (ret == -ENODEV)	/* detached meanwhile */
			continue;
		if (ret)
			break;
		for (j = 0; j < count; j++)
			if (snaps[j].image_index == index)
				break;
		if (j < count) {
			ref->origin = devno;
			ref->origin_info = oi;
			ref->info = snaps[j];
			free(snaps);
			free(origins);
			return 0;
		}
		free(snaps);
	}
	free(origins);
	return ret ? ret : -ENOENT;
}

/**
 * snap_lookup() - the snapshot behind an image argument
 * @fd: the control device.
 * @path: what the user gave.
 * @ref: out: the snapshot.
 *
 * Return: 0, or -1 after a message naming @path was printed.
 */
int snap_lookup(int fd, const char *path, struct snap_ref *ref)
{
	long index = image_index(path);
	int ret;

	if (index < 0) {
		errx_errno(0, "%s: not an image device /dev/volsnapN", path);
		return -1;
	}
	ret = snap_find(fd, index, ref);
	if (ret == -ENOENT) {
		errx_errno(0, "%s: no such snapshot", path);
		return -1;
	}
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, "cannot list snapshots");
		return -1;
	}
	ref->image = image_name(index);
	return 0;
}

/* Append [@offset, @offset + @length) to @d, merged with the last run. */
static void diff_add(struct snap_diff *d, unsigned long long offset,
		     unsigned long long length)
{
	struct byte_extent *last = d->nr ? &d->ext[d->nr - 1] : NULL;

	if (!length)
		return;
	d->total += length;
	if (last && last->offset + last->length == offset) {
		last->length += length;
		return;
	}
	if (d->nr == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->ext = xrealloc(d->ext, d->cap * sizeof(*d->ext));
	}
	d->ext[d->nr].offset = offset;
	d->ext[d->nr].length = length;
	d->nr++;
}

/**
 * snap_diff() - the byte extents that may differ between two points in time
 * @fd: the control device.
 * @from: the earlier snapshot.
 * @to: the later snapshot of the same origin, or %NULL for the live origin.
 * @d: out: the extents in ascending order, merged; free d->ext.
 *
 * Every byte that differs lies in an extent, at chunk granularity; where
 * the later point is larger, all it has beyond the earlier one's size is
 * one more extent.
 *
 * Return: 0 or -errno of %VOLSNAP_IOC_DIFF.
 */
int snap_diff(int fd, const struct snap_ref *from, const struct snap_ref *to,
	      struct snap_diff *d)
{
	struct volsnap_extent *buf = xrealloc(NULL, VOLSNAP_DIFF_MAX * sizeof(*buf));
	struct volsnap_diff arg = {
		.flags = to ? 0 : VOLSNAP_DIFF_NOW,
		.major = major(from->origin),
		.minor = minor(from->origin),
		.from = from->info.id,
		.to = to ? to->info.id : 0,
		.extents = (uintptr_t)buf,
	};
	unsigned long long common, end;
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	do {
		/* The module refuses a call whose out fields are not zero. */
		arg.count = VOLSNAP_DIFF_MAX;
		arg.chunk_size = 0;
		arg.from_sectors = 0;
		arg.to_sectors = 0;
		ret = ctl_ioctl(fd, VOLSNAP_IOC_DIFF, &arg);
		if (ret)
			break;
		common = (arg.from_sectors < arg.to_sectors ?
			  arg.from_sectors : arg.to_sectors) << 9;
		for (i = 0; i < arg.count; i++) {
			unsigned long long off = buf[i].chunk * arg.chunk_size;

			end = off + buf[i].count * arg.chunk_size;
			if (end > common)
				end = common;
			if (off < end)
				diff_add(d, off, end - off);
		}
	} while (arg.count == VOLSNAP_DIFF_MAX);
	free(buf);
	if (ret) {
		free(d->ext);
		memset(d, 0, sizeof(*d));
		return ret;
	}
	d->chunk_size = arg.chunk_size;
	d->from_bytes = arg.from_sectors << 9;
	d->to_bytes = arg.to_sectors << 9;
	if (d->to_bytes > d->from_bytes)
		diff_add(d, d->from_bytes, d->to_bytes - d->from_bytes);
	return 0;
}

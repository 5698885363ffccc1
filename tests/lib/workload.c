// SPDX-License-Identifier: GPL-2.0
/* Reproducible mixes of data-changing requests; see workload.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include "workload.h"

static const char *const names[WL_KINDS] = {
	[WL_ALIGNED] = "aligned write",
	[WL_UNALIGNED] = "unaligned write",
	[WL_SUBCHUNK] = "sub-chunk write",
	[WL_SPANNING] = "chunk-spanning write",
	[WL_LARGE] = "large write",
	[WL_BUFFERED] = "buffered write",
	[WL_FUA] = "FUA write",
	[WL_ZEROOUT] = "BLKZEROOUT",
	[WL_FALLOC_ZERO] = "fallocate zero-range",
	[WL_PUNCH] = "fallocate punch-hole",
	[WL_DISCARD] = "BLKDISCARD",
};

const char *wl_name(enum wl_kind k)
{
	return k < WL_KINDS ? names[k] : "?";
}

int wl_open(struct wl *w, const char *path, u32 seed,
	    unsigned int chunk_size, u64 rng_seed)
{
	u64 bytes = 0;

	memset(w, 0, sizeof(*w));
	w->path = path;
	w->seed = seed;
	w->chunk_sectors = chunk_size / STAMP_SECTOR;
	w->bfd = -1;
	stamp_rng_init(&w->rng, rng_seed);
	w->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	w->bfd = open(path, O_RDWR | O_CLOEXEC);
	if (w->bfd < 0 || ioctl(w->fd, BLKGETSIZE64, &bytes)) {
		int err = -errno;

		wl_close(w);
		return err;
	}
	w->dev_sectors = bytes / STAMP_SECTOR;
	w->map = calloc(w->dev_sectors, sizeof(*w->map));
	w->touched = calloc(w->dev_sectors / w->chunk_sectors + 1, 1);
	if (!w->map || !w->touched) {
		wl_close(w);
		return -ENOMEM;
	}
	return 0;
}

void wl_close(struct wl *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->bfd >= 0)
		close(w->bfd);
	w->fd = -1;
	w->bfd = -1;
	free(w->map);
	free(w->touched);
	w->map = NULL;
	w->touched = NULL;
}

/* Mark the chunks of the 4 KiB pages [sector, sector+n) lies in. */
static void touch(struct wl *w, u64 sector, u64 n)
{
	u64 c0 = (sector & ~7ULL) / w->chunk_sectors;
	u64 c1 = (((sector + n + 7) & ~7ULL) - 1) / w->chunk_sectors;

	for (; c0 <= c1; c0++)
		w->touched[c0] = 1;
}

u64 wl_untouch(struct wl *w)
{
	u64 i, n = 0, chunks = w->dev_sectors / w->chunk_sectors + 1;

	for (i = 0; i < chunks; i++) {
		n += w->touched[i];
		w->touched[i] = 0;
	}
	return n;
}

int wl_fill(struct wl *w, u64 first, u64 n, u32 gen)
{
	int ret;

	if (!gen)
		gen = ++w->gen;
	else if (gen > w->gen)
		w->gen = gen;
	ret = stamp_write(w->fd, first, n, gen, w->seed);
	if (!ret) {
		stamp_map_set(w->map, first, n, gen);
		touch(w, first, n);
	}
	return ret;
}

static int buffered_write(struct wl *w, u64 sector, u64 n,
			  u32 gen)
{
	off_t off = (off_t)(sector << STAMP_SHIFT);
	size_t bytes = n << STAMP_SHIFT;
	void *buf = malloc(bytes);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	stamp_buf(buf, sector, n, gen, w->seed);
	/* Drop cached pages first so no stale page is written back. */
	posix_fadvise(w->bfd, off & ~4095L, bytes + 8192, POSIX_FADV_DONTNEED);
	if (pwrite(w->bfd, buf, bytes, off) != (ssize_t)bytes)
		ret = errno ? -errno : -EIO;
	else if (fdatasync(w->bfd))
		ret = -errno;
	posix_fadvise(w->bfd, off & ~4095L, bytes + 8192, POSIX_FADV_DONTNEED);
	free(buf);
	return ret;
}

static int fua_write(struct wl *w, u64 sector, u64 n, u32 gen)
{
	size_t bytes = n << STAMP_SHIFT;
	void *buf = stamp_alloc(bytes);
	struct iovec iov = { .iov_base = buf, .iov_len = bytes };
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	stamp_buf(buf, sector, n, gen, w->seed);
	if (pwritev2(w->fd, &iov, 1, (off_t)(sector << STAMP_SHIFT),
		     RWF_DSYNC) != (ssize_t)bytes)
		ret = errno ? -errno : -EIO;
	free(buf);
	return ret;
}

int wl_at(struct wl *w, enum wl_kind k, u64 sector, u64 n)
{
	u64 range[2] = { sector << STAMP_SHIFT, n << STAMP_SHIFT };
	u32 gen = ++w->gen;
	u64 i;
	int ret;

	snprintf(w->last, sizeof(w->last), "%s of %llu sectors at sector %llu (gen %u)",
		 wl_name(k), (unsigned long long)n, (unsigned long long)sector,
		 gen);
	errno = 0;
	switch (k) {
	case WL_BUFFERED:
		ret = buffered_write(w, sector, n, gen);
		break;
	case WL_FUA:
		ret = fua_write(w, sector, n, gen);
		break;
	case WL_ZEROOUT:
		ret = ioctl(w->fd, BLKZEROOUT, range) ? -errno : 0;
		gen = STAMP_GEN_ZERO;
		break;
	case WL_FALLOC_ZERO:
		ret = fallocate(w->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				(off_t)range[0], (off_t)range[1]) ? -errno : 0;
		gen = STAMP_GEN_ZERO;
		break;
	case WL_PUNCH:
		ret = fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)range[0], (off_t)range[1]) ? -errno : 0;
		gen = STAMP_GEN_ZERO;
		break;
	case WL_DISCARD:
		ret = ioctl(w->fd, BLKDISCARD, range) ? -errno : 0;
		if (ret)
			break;
		for (i = sector; i < sector + n; i++) {
			u32 old = w->map[i] & STAMP_GEN_MASK;

			if (w->discard_zeroes || old == STAMP_GEN_ZERO)
				w->map[i] = STAMP_GEN_ZERO;
			else
				w->map[i] = old | STAMP_OR_ZERO;
		}
		touch(w, sector, n);
		w->done[k]++;
		return 0;
	default:
		ret = stamp_write(w->fd, sector, n, gen, w->seed);
		break;
	}
	if (ret == -EOPNOTSUPP) {
		w->unsupported[k]++;
		return 0;
	}
	if (ret)
		return ret;
	stamp_map_set(w->map, sector, n, gen);
	touch(w, sector, n);
	w->done[k]++;
	return 0;
}

static u64 rnd(struct wl *w, u64 lo, u64 hi)
{
	return hi <= lo ? lo : stamp_rng_range(&w->rng, lo, hi);
}

static u64 min64(u64 a, u64 b)
{
	return a < b ? a : b;
}

/* A random place of n sectors, aligned to align sectors, in [lo, hi). */
static u64 place(struct wl *w, u64 lo, u64 hi, u64 n, u64 align)
{
	u64 a0 = (lo + align - 1) / align * align;

	if (a0 + n > hi)
		return a0;
	return a0 + rnd(w, 0, (hi - n - a0) / align) * align;
}

int wl_do(struct wl *w, enum wl_kind k, u64 first, u64 n)
{
	u64 end = first + n, cs = w->chunk_sectors, len, at, c0, c1;

	/* Chunks wholly inside the range: [c0, c1). */
	c0 = (first + cs - 1) / cs;
	c1 = end / cs;
	switch (k) {
	case WL_ALIGNED:
	case WL_FUA:
		len = 8 * rnd(w, 1, 16);
		at = place(w, first, end, len, 8);
		break;
	case WL_UNALIGNED:
		len = rnd(w, 1, 31);
		at = place(w, first, end, len, 1);
		if (!(at & 7))
			at = at + 1 + len <= end ? at + 1 : at - 1;
		break;
	case WL_SUBCHUNK:
		len = rnd(w, 1, min64(cs - 1, 512));
		at = rnd(w, c0, c1 - 1) * cs + rnd(w, 0, cs - len);
		break;
	case WL_SPANNING: {
		u64 b = rnd(w, c0 + 1, c1 - 1) * cs;
		u64 before = rnd(w, 1, min64(cs, 64));

		len = before + rnd(w, 1, min64(cs, 64));
		at = b - before;
		break;
	}
	case WL_LARGE:
		len = rnd(w, 2 * cs + 1, cs > 2048 ? 4 * cs : 8192);
		at = place(w, first, end, len, rnd(w, 0, 1) ? 8 : 1);
		break;
	case WL_BUFFERED:
		len = rnd(w, 1, 64);
		at = place(w, first, end, len, 1);
		break;
	case WL_DISCARD:
		len = 8 * rnd(w, 1, 256);
		at = place(w, first, end, len, 8);
		break;
	default:	/* zeroing */
		len = rnd(w, 1, 512);
		at = place(w, first, end, len, 1);
		break;
	}
	if (at < first || at + len > end)
		return -ERANGE;	/* the range is too small for this kind */
	return wl_at(w, k, at, len);
}

int wl_random(struct wl *w, unsigned int kinds, u64 first, u64 n,
	      unsigned int count)
{
	enum wl_kind pick[WL_KINDS];
	unsigned int i, nk = 0;
	int ret;

	for (i = 0; i < WL_KINDS; i++)
		if (kinds & WL_BIT(i))
			pick[nk++] = i;
	if (!nk)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		ret = wl_do(w, pick[rnd(w, 0, nk - 1)], first, n);
		if (ret)
			return ret;
	}
	return 0;
}

void wl_report(const struct wl *w)
{
	unsigned int k;

	for (k = 0; k < WL_KINDS; k++)
		if (w->done[k] || w->unsupported[k])
			stamp_log("%-22s %5lu done, %lu unsupported by the device",
				  wl_name(k), w->done[k], w->unsupported[k]);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A random but reproducible mix of data-changing requests on a block
 * device, with the expected content kept in a per-sector map of stamp
 * generations (stamp.h). Every kind of request that changes data is here:
 * aligned, unaligned, sub-chunk, chunk-spanning and large O_DIRECT writes,
 * buffered writes, FUA writes, write-zeroes (BLKZEROOUT and fallocate
 * ZERO_RANGE), punch-hole and discard.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "vstypes.h"

#include "stamp.h"

enum wl_kind {
	WL_ALIGNED,	/* 4 KiB-aligned, 4-64 KiB */
	WL_UNALIGNED,	/* 512 B-aligned, not 4 KiB-aligned, 0.5-15.5 KiB */
	WL_SUBCHUNK,	/* inside one chunk, shorter than a chunk */
	WL_SPANNING,	/* across a chunk boundary */
	WL_LARGE,	/* several chunks, up to 4 MiB or 4 chunks */
	WL_BUFFERED,	/* through the page cache, then fdatasync */
	WL_FUA,		/* O_DIRECT with RWF_DSYNC (FUA/flush) */
	WL_ZEROOUT,	/* BLKZEROOUT */
	WL_FALLOC_ZERO,	/* fallocate(ZERO_RANGE | KEEP_SIZE) */
	WL_PUNCH,	/* fallocate(PUNCH_HOLE | KEEP_SIZE) */
	WL_DISCARD,	/* BLKDISCARD */
	WL_KINDS
};

#define WL_BIT(k)	(1u << (k))
#define WL_ALL_WRITES	(WL_BIT(WL_ALIGNED) | WL_BIT(WL_UNALIGNED) | \
			 WL_BIT(WL_SUBCHUNK) | WL_BIT(WL_SPANNING) | \
			 WL_BIT(WL_LARGE) | WL_BIT(WL_BUFFERED) | WL_BIT(WL_FUA))
#define WL_ALL_ZEROING	(WL_BIT(WL_ZEROOUT) | WL_BIT(WL_FALLOC_ZERO) | \
			 WL_BIT(WL_PUNCH))
#define WL_ALL		(WL_ALL_WRITES | WL_ALL_ZEROING | WL_BIT(WL_DISCARD))

struct wl {
	const char *path;
	int fd;			/* O_RDWR | O_DIRECT */
	int bfd;		/* O_RDWR, buffered */
	u32 seed;		/* stamp seed */
	u32 gen;		/* last generation used */
	u32 *map;		/* expected content, one entry per sector */
	u64 dev_sectors;
	u64 chunk_sectors;
	bool discard_zeroes;	/* the device reads zeros after a discard */
	struct stamp_rng rng;
	u8 *touched;	/* per chunk: changed since wl_untouch() */
	unsigned long done[WL_KINDS];
	unsigned long unsupported[WL_KINDS];
	char last[160];		/* the last request, for failure messages */
};

/*
 * Open path for the workload; chunk_size (bytes) shapes the sub-chunk and
 * spanning requests. rng_seed makes the sequence reproducible.
 * Returns 0 or -errno.
 */
int wl_open(struct wl *w, const char *path, u32 seed,
	    unsigned int chunk_size, u64 rng_seed);
void wl_close(struct wl *w);
const char *wl_name(enum wl_kind k);

/* Stamp [first, first+n) with a new generation (or gen if non-zero). */
int wl_fill(struct wl *w, u64 first, u64 n, u32 gen);
/* One request of kind k at exactly [sector, sector+n). 0 or -errno. */
int wl_at(struct wl *w, enum wl_kind k, u64 sector, u64 n);
/*
 * One request of kind k at a random place inside [first, first+n).
 * Requests the device does not support (EOPNOTSUPP) count in
 * w->unsupported and return 0. Other failures return -errno.
 */
int wl_do(struct wl *w, enum wl_kind k, u64 first, u64 n);
/* count requests, kinds drawn at random from the mask. 0 or -errno. */
int wl_random(struct wl *w, unsigned int kinds, u64 first, u64 n,
	      unsigned int count);
/* Forget which chunks were touched; returns how many were. */
u64 wl_untouch(struct wl *w);
/* Print how many requests of each kind ran (and were unsupported). */
void wl_report(const struct wl *w);

#endif

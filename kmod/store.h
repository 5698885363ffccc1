/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow store: where chunks are preserved before the origin
 * overwrites them. A block device today; the interface is kept narrow
 * (open, allocate, free, address, close) so that a file-backed store is a
 * second implementation, not a rewrite.
 */
#ifndef VOLSNAP_STORE_H
#define VOLSNAP_STORE_H

#include <linux/spinlock.h>
#include <linux/types.h>

#include "compat.h"

/**
 * struct volsnap_store - an open shadow store
 * @dev: the store device, opened exclusively.
 * @chunk_shift: log2 of the chunk size in 512-byte sectors.
 * @nr_chunks: data chunks (the device's first chunk holds the header).
 * @uuid: random identity written in the header at attach.
 * @attached_ns: when it was attached, CLOCK_REALTIME ns.
 * @lock: protects @bitmap, @used and @hint.
 * @bitmap: one bit per data chunk, set while in use.
 * @used: data chunks in use.
 * @hint: where the next search for a free chunk starts.
 * @threshold: fill level in percent at which @full is called, 0 never.
 * @threshold_chunks: @threshold as chunks in use (0 with none).
 * @above: @used reached @threshold_chunks and has not fallen below since.
 * @full: called, outside @lock, when @used rises to @threshold_chunks;
 *	from any context the allocation is made in (it must not sleep).
 * @full_data: @full's argument.
 */
struct volsnap_store {
	struct volsnap_bdev dev;
	unsigned int chunk_shift;
	u64 nr_chunks;
	u8 uuid[16];
	u64 attached_ns;

	spinlock_t lock;	/* @bitmap, @used, @hint, @threshold.. @above */
	unsigned long *bitmap;
	u64 used;
	u64 hint;
	unsigned int threshold;
	u64 threshold_chunks;
	bool above;

	void (*full)(void *data, u64 used, u64 total, unsigned int threshold);
	void *full_data;
};

struct volsnap_store *volsnap_store_open(dev_t dev, struct block_device *origin,
					 unsigned int chunk_shift, void *holder);
int volsnap_store_release(struct volsnap_store *st, struct block_device *origin);
void volsnap_store_close(struct volsnap_store *st);
int volsnap_store_alloc_run(struct volsnap_store *st, unsigned int want,
			    u64 *chunk);
void volsnap_store_free(struct volsnap_store *st, u64 chunk);
u64 volsnap_store_used(struct volsnap_store *st);
void volsnap_store_set_threshold(struct volsnap_store *st, unsigned int percent);
unsigned int volsnap_store_threshold(struct volsnap_store *st);

/**
 * volsnap_store_sector() - first sector of a data chunk on the store device
 * @st: the store.
 * @chunk: data chunk number.
 *
 * Return: the sector; data chunk 0 follows the header chunk.
 */
static inline sector_t volsnap_store_sector(const struct volsnap_store *st,
					    u64 chunk)
{
	return (chunk + 1) << st->chunk_shift;
}

#endif /* VOLSNAP_STORE_H */

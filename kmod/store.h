/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow store: where chunks are preserved before the origin
 * overwrites them. Two backends, one interface (open, allocate, free,
 * address, close): a block device, or a regular file on another
 * filesystem (store-file.c), whose blocks are mapped once at attach and
 * then written directly on that filesystem's device, as swap does.
 *
 * Either way the store is data chunks at known sectors of one block
 * device: a device store is one run of them, a file store one run per
 * physically contiguous stretch of the file (an extent). Data chunk
 * numbers leave one unused number between two extents, so chunks with
 * adjacent numbers are always adjacent on the device: the allocator's
 * runs, the copy engine's merged writes and the images' merged reads
 * never cross an extent boundary, without knowing that extents exist.
 */
#ifndef VOLSNAP_STORE_H
#define VOLSNAP_STORE_H

#include <linux/spinlock.h>
#include <linux/types.h>

#include "compat.h"

struct file;

/* Bytes of the header at the start of the store's first chunk. */
#define VOLSNAP_STORE_HEADER_SIZE	4096

/**
 * struct volsnap_store_extent - data chunks that are adjacent on the device
 * @chunk: the first data chunk number.
 * @nr: how many.
 * @sector: where @chunk starts on the store's device.
 */
struct volsnap_store_extent {
	u64 chunk;
	u64 nr;
	sector_t sector;
};

/**
 * struct volsnap_store - an open shadow store
 * @bdev: the device all store I/O goes to: @dev's, or the device of
 *	@file's filesystem.
 * @header_sector: where the header lies on @bdev.
 * @data_sector: with no @extents, where data chunk 0 lies on @bdev.
 * @extents: a file store's runs of adjacent data chunks, sorted, or NULL
 *	when all data chunks are one run from @data_sector (every device
 *	store, and a file store that is one extent).
 * @nr_extents: entries in @extents.
 * @dev: a device store: the device, opened exclusively.
 * @file: a file store: the file, pinned (S_SWAPFILE) while open.
 * @chunk_shift: log2 of the chunk size in 512-byte sectors.
 * @nr_chunks: data chunks (the store's first chunk holds the header).
 * @nr_bits: data chunk numbers: @nr_chunks plus one unused number between
 *	two extents.
 * @uuid: random identity written in the header at attach.
 * @attached_ns: when it was attached, CLOCK_REALTIME ns.
 * @lock: protects @bitmap, @used and @hint.
 * @bitmap: one bit per data chunk, set while in use.
 * @used: data chunks in use.
 * @hint: where the next search for a free chunk starts.
 * @threshold: fill level in percent at which @full is called, 0 never.
 * @threshold_chunks: @threshold as chunks in use (0 with none).
 * @above: @used reached @threshold_chunks and has not fallen 1% of the
 *	store below it since.
 * @full: called, outside @lock, when @used rises to @threshold_chunks;
 *	from any context the allocation is made in (it must not sleep).
 * @full_data: @full's argument.
 */
struct volsnap_store {
	struct block_device *bdev;
	sector_t header_sector;
	sector_t data_sector;
	struct volsnap_store_extent *extents;
	unsigned int nr_extents;
	struct volsnap_bdev dev;
	struct file *file;
	unsigned int chunk_shift;
	u64 nr_chunks;
	u64 nr_bits;
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

struct volsnap_store *volsnap_store_open(dev_t dev, struct file *file,
					 struct block_device *origin,
					 unsigned int chunk_shift, void *holder);
int volsnap_store_release(struct volsnap_store *st, struct block_device *origin);
void volsnap_store_close(struct volsnap_store *st);
int volsnap_store_alloc_run(struct volsnap_store *st, unsigned int want,
			    u64 *chunk);
void volsnap_store_free(struct volsnap_store *st, u64 chunk);
u64 volsnap_store_used(struct volsnap_store *st);
void volsnap_store_set_threshold(struct volsnap_store *st, unsigned int percent);
unsigned int volsnap_store_threshold(struct volsnap_store *st);
sector_t volsnap_store_map(const struct volsnap_store *st, u64 chunk);

/* store-file.c: the file backend, called by volsnap_store_open(). */
int volsnap_store_file_map(struct volsnap_store *st, struct file *file);
void volsnap_store_file_unmap(struct volsnap_store *st);

/**
 * volsnap_store_sector() - first sector of a data chunk on @st->bdev
 * @st: the store.
 * @chunk: data chunk number, from volsnap_store_alloc_run().
 *
 * Return: the sector. A device store's data chunk 0 follows its header
 * chunk; a file store's chunks are where its extents put them.
 */
static inline sector_t volsnap_store_sector(const struct volsnap_store *st,
					    u64 chunk)
{
	if (likely(!st->extents))
		return st->data_sector + (chunk << st->chunk_shift);
	return volsnap_store_map(st, chunk);
}

#endif /* VOLSNAP_STORE_H */

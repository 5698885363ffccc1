// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow store, on a block device or in a regular file (store-file.c).
 *
 * On-disk format, version 1 (all integers little-endian):
 *
 *   The device, or the file, is cut into chunks of the origin's chunk
 *   size. Chunk 0 holds the header in its first 4096 bytes; on a device
 *   data chunk N is device chunk N + 1. In a file the data chunks are the
 *   file's chunks after the first whose blocks are contiguous on the
 *   filesystem's device, in file order; a chunk whose blocks are not is
 *   left unused, and data_chunks counts only the used ones. Version 1
 *   keeps the chunk map in memory only (snapshots do not survive a
 *   reboot); map_offset and map_len reserve its place
 *   on the device for a later version, and each map entry will carry a
 *   crc32c of its chunk for verification.
 *
 *   offset size field
 *        0    8 magic           "VOLSNAPS"
 *        8    4 version         1
 *       12    4 header_size     4096
 *       16    4 chunk_size      bytes
 *       20    4 state           0 clean (detached), 1 active (attached)
 *       24    4 flags           0
 *       28    4 reserved0       0
 *       32    8 origin_dev      device number of the origin (new encoding)
 *       40    8 origin_sectors  size of the origin in 512-byte sectors
 *       48    8 data_chunks     data chunks on this store
 *       56   16 uuid            random, chosen at attach
 *       72    8 attached_ns     CLOCK_REALTIME of the attach (kept at detach)
 *       80    8 map_offset      0 in version 1
 *       88    8 map_len         0 in version 1
 *       96 3996 reserved        0
 *     4092    4 checksum        crc32 (~0 seed, inverted) of bytes 0..4091
 *
 * A store whose header is active for another origin (another device
 * number or size) belongs to an attach that did not end cleanly elsewhere
 * and is refused; an active header for this same origin is stale (a crash
 * while attached) and is taken over.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": store: " fmt

#include <linux/bio.h>
#include <linux/crc32.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "hook.h"
#include "io.h"
#include "snapshot.h"
#include "stack.h"
#include "store.h"

#define STORE_MAGIC		"VOLSNAPS"
#define STORE_VERSION		1
#define STORE_HEADER_SIZE	VOLSNAP_STORE_HEADER_SIZE
#define STORE_STATE_CLEAN	0
#define STORE_STATE_ACTIVE	1

struct store_header {
	char magic[8];
	__le32 version;
	__le32 header_size;
	__le32 chunk_size;
	__le32 state;
	__le32 flags;
	__le32 reserved0;
	__le64 origin_dev;
	__le64 origin_sectors;
	__le64 data_chunks;
	u8 uuid[16];
	__le64 attached_ns;
	__le64 map_offset;
	__le64 map_len;
	u8 reserved[3996];
	__le32 checksum;
} __packed;

static_assert(sizeof(struct store_header) == STORE_HEADER_SIZE);

static u32 header_csum(const struct store_header *h)
{
	return ~crc32_le(~0U, (const u8 *)h, offsetof(struct store_header, checksum));
}

static int header_io(struct volsnap_store *st, struct page *page, blk_opf_t opf)
{
	return volsnap_io_page(st->bdev, st->header_sector, page,
			       STORE_HEADER_SIZE, opf);
}

/* Write the header with @state; the store's other fields come from @st. */
static int header_write(struct volsnap_store *st, struct block_device *origin,
			u32 state)
{
	struct store_header *h;
	struct page *page;
	int ret;

	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	h = page_address(page);
	memcpy(h->magic, STORE_MAGIC, sizeof(h->magic));
	h->version = cpu_to_le32(STORE_VERSION);
	h->header_size = cpu_to_le32(STORE_HEADER_SIZE);
	h->chunk_size = cpu_to_le32(SECTOR_SIZE << st->chunk_shift);
	h->state = cpu_to_le32(state);
	h->origin_dev = cpu_to_le64(new_encode_dev(origin->bd_dev));
	h->origin_sectors = cpu_to_le64(bdev_nr_sectors(origin));
	h->data_chunks = cpu_to_le64(st->nr_chunks);
	memcpy(h->uuid, st->uuid, sizeof(h->uuid));
	h->attached_ns = cpu_to_le64(st->attached_ns);
	h->checksum = cpu_to_le32(header_csum(h));
	ret = header_io(st, page, REQ_OP_WRITE | REQ_SYNC | REQ_FUA);
	__free_page(page);
	return ret;
}

/* Refuse a store that is live for another origin. */
static int header_check(struct volsnap_store *st, struct block_device *origin)
{
	struct store_header *h;
	struct page *page;
	int ret;

	page = alloc_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	ret = header_io(st, page, REQ_OP_READ);
	if (ret)
		goto out;
	h = page_address(page);
	if (memcmp(h->magic, STORE_MAGIC, sizeof(h->magic)) ||
	    le32_to_cpu(h->checksum) != header_csum(h) ||
	    le32_to_cpu(h->state) != STORE_STATE_ACTIVE)
		goto out;
	if (le64_to_cpu(h->origin_dev) != new_encode_dev(origin->bd_dev) ||
	    le64_to_cpu(h->origin_sectors) != bdev_nr_sectors(origin)) {
		pr_err("%pg%s carries a live header of origin %u:%u\n",
		       st->bdev, st->file ? " (a file on it)" : "",
		       MAJOR(new_decode_dev(le64_to_cpu(h->origin_dev))),
		       MINOR(new_decode_dev(le64_to_cpu(h->origin_dev))));
		ret = -EBUSY;
	}
out:
	__free_page(page);
	return ret;
}

/* Open the store device @dev: one run of data chunks after the header. */
static int store_dev_open(struct volsnap_store *st, dev_t dev, void *holder)
{
	u64 chunks;
	int ret;

	ret = volsnap_bdev_open(&st->dev, dev, true, holder);
	if (ret)
		return ret;
	st->bdev = st->dev.bdev;
	chunks = bdev_nr_sectors(st->bdev) >> st->chunk_shift;
	st->nr_chunks = chunks ? chunks - 1 : 0;
	st->nr_bits = st->nr_chunks;
	st->header_sector = 0;
	st->data_sector = 1ULL << st->chunk_shift;
	return 0;
}

/* Undo store_dev_open() or volsnap_store_file_map(). */
static void store_unmap(struct volsnap_store *st)
{
	if (st->file)
		volsnap_store_file_unmap(st);
	else
		volsnap_bdev_close(&st->dev);
}

/*
 * Can @bdev, where a store's I/O goes, serve @origin? 0, -EROFS a
 * snapshot's image (a writable image's writes go to its own origin's
 * store) or, for a @file store, read-only, -EINVAL it overlaps the origin
 * or has larger logical blocks, -ELOOP stacked on one another.
 */
static int store_dev_check(struct block_device *bdev,
			   struct block_device *origin, bool file)
{
	sector_t start, end, ostart, oend;

	if ((file && bdev_read_only(bdev)) || volsnap_is_image(bdev))
		return -EROFS;
	/* Same disk: the sector ranges must not meet. */
	if (bdev->bd_disk == origin->bd_disk) {
		start = bdev->bd_start_sect;
		end = start + bdev_nr_sectors(bdev);
		ostart = origin->bd_start_sect;
		oend = ostart + bdev_nr_sectors(origin);
		if (start < oend && ostart < end)
			return -EINVAL;
	}
	/*
	 * Stacked on one another (dm, md, a loop file): the store's writes,
	 * even its header's, would change the origin, or the origin's the
	 * store. Checked before anything is written.
	 */
	if (volsnap_bdev_reaches(bdev, origin) ||
	    volsnap_bdev_reaches(origin, bdev))
		return -ELOOP;
	/* Copies and image reads are aligned to the origin's blocks. */
	if (bdev_logical_block_size(bdev) > bdev_logical_block_size(origin))
		return -EINVAL;
	return 0;
}

/**
 * volsnap_store_open() - open a block device or a file as an origin's store
 * @dev: the store device, when @file is NULL.
 * @file: a regular file for a file store (the store takes its own
 *	reference), or NULL.
 * @origin: the origin it will serve.
 * @chunk_shift: log2 of the chunk size in sectors.
 * @holder: exclusive holder for the open of @dev.
 *
 * Opens the device, or pins and maps the file (volsnap_store_file_map()),
 * checks the device the store's I/O goes to, then writes an active
 * header.
 *
 * Return: the store or an ERR_PTR(): -EINVAL the store is or overlaps the
 * origin or has larger logical blocks than it, -ELOOP it is stacked on
 * the origin or the origin on it (dm, md, a loop file), -EBUSY it is in
 * use or live for another origin, -ENOSPC it has no room for the header
 * and one data chunk, -EROFS it is a snapshot's image or read-only; for a
 * file, the errors of volsnap_store_file_map() too.
 */
struct volsnap_store *volsnap_store_open(dev_t dev, struct file *file,
					 struct block_device *origin,
					 unsigned int chunk_shift, void *holder)
{
	struct volsnap_store *st;
	struct block_device *bdev;
	u64 i;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&st->lock);
	st->chunk_shift = chunk_shift;

	if (file) {
		/* Refused before the file is pinned, written back and mapped. */
		bdev = file_inode(file)->i_sb->s_bdev;
		ret = bdev ? store_dev_check(bdev, origin, true) : 0;
		if (!ret)
			ret = volsnap_store_file_map(st, file);
		if (ret)
			goto free;
	} else {
		ret = store_dev_open(st, dev, holder);
		if (ret)
			goto free;
		ret = store_dev_check(st->bdev, origin, false);
		if (ret)
			goto close;
	}

	if (!st->nr_chunks) {
		ret = -ENOSPC;
		goto close;
	}
	st->bitmap = kvcalloc(BITS_TO_LONGS(st->nr_bits), sizeof(long),
			      GFP_KERNEL);
	if (!st->bitmap) {
		ret = -ENOMEM;
		goto close;
	}
	/* The numbers between extents are never handed out. */
	for (i = 1; i < st->nr_extents; i++)
		__set_bit(st->extents[i].chunk - 1, st->bitmap);
	get_random_bytes(st->uuid, sizeof(st->uuid));
	st->attached_ns = ktime_get_real_ns();

	ret = header_check(st, origin);
	if (ret)
		goto free_bitmap;
	ret = header_write(st, origin, STORE_STATE_ACTIVE);
	if (ret)
		goto free_bitmap;
	return st;

free_bitmap:
	kvfree(st->bitmap);
close:
	store_unmap(st);
free:
	kfree(st);
	return ERR_PTR(ret);
}

/**
 * volsnap_store_close() - close the store and free it
 * @st: the store.
 */
void volsnap_store_close(struct volsnap_store *st)
{
	kvfree(st->bitmap);
	store_unmap(st);
	kfree(st);
}

/**
 * volsnap_store_release() - write a clean header before close
 * @st: the store.
 * @origin: the origin it served.
 *
 * Return: 0 or the header write's error (the store is closed either way).
 */
int volsnap_store_release(struct volsnap_store *st, struct block_device *origin)
{
	return header_write(st, origin, STORE_STATE_CLEAN);
}

/* How far below the threshold use must fall before the next event. */
static u64 threshold_margin(const struct volsnap_store *st)
{
	return max_t(u64, 1, div_u64(st->nr_chunks, 100));
}

/*
 * Has @used just reached the threshold? Then the threshold in percent (to
 * report outside the lock), once until @used falls below it again.
 */
static unsigned int threshold_crossed(struct volsnap_store *st)
{
	lockdep_assert_held(&st->lock);
	if (st->above || !st->threshold_chunks ||
	    st->used < st->threshold_chunks)
		return 0;
	st->above = true;
	return st->threshold;
}

/**
 * volsnap_store_alloc_run() - take free data chunks, adjacent if possible
 * @st: the store.
 * @want: how many the caller would like, at least 1.
 * @chunk: the first chunk number, on success.
 *
 * Return: how many adjacent chunks from @chunk were taken (1 to @want),
 * all adjacent on the store's device too, or -ENOSPC when the store is
 * full.
 */
int volsnap_store_alloc_run(struct volsnap_store *st, unsigned int want,
			    u64 *chunk)
{
	unsigned long bit, end;
	unsigned int full;
	u64 used_now;

	spin_lock(&st->lock);
	bit = find_next_zero_bit(st->bitmap, st->nr_bits, st->hint);
	if (bit >= st->nr_bits)
		bit = find_first_zero_bit(st->bitmap, st->nr_bits);
	if (bit >= st->nr_bits) {
		spin_unlock(&st->lock);
		return -ENOSPC;
	}
	/* Stops at the unused number after an extent's last chunk. */
	end = find_next_bit(st->bitmap, min_t(u64, st->nr_bits, bit + want),
			    bit);
	bitmap_set(st->bitmap, bit, end - bit);
	st->used += end - bit;
	st->hint = end;
	full = threshold_crossed(st);
	used_now = st->used;
	spin_unlock(&st->lock);
	if (full)
		st->full(st->full_data, used_now, st->nr_chunks, full);
	*chunk = bit;
	return end - bit;
}

/**
 * volsnap_store_free() - give a data chunk back
 * @st: the store.
 * @chunk: a chunk from volsnap_store_alloc_run().
 */
void volsnap_store_free(struct volsnap_store *st, u64 chunk)
{
	spin_lock(&st->lock);
	if (!WARN_ON_ONCE(!__test_and_clear_bit(chunk, st->bitmap)))
		st->used--;
	/*
	 * Well below the threshold again (1% of the store, one chunk at
	 * least): the next rise is reported. Not at the first chunk below,
	 * or copies taken and given back around it would send a stream.
	 */
	if (st->above && st->used + threshold_margin(st) <= st->threshold_chunks)
		st->above = false;
	spin_unlock(&st->lock);
}

/**
 * volsnap_store_used() - data chunks in use
 * @st: the store.
 *
 * Return: the count, for status reports.
 */
u64 volsnap_store_used(struct volsnap_store *st)
{
	return READ_ONCE(st->used);
}

/**
 * volsnap_store_set_threshold() - when to report that the store fills up
 * @st: the store.
 * @percent: fill level, 1 to 100, or 0 for never.
 *
 * A threshold at or below the current use is reported at once (through
 * @st->full, which must be set).
 *
 * Context: process context, not under @st->lock.
 */
void volsnap_store_set_threshold(struct volsnap_store *st, unsigned int percent)
{
	unsigned int full;
	u64 used;

	spin_lock(&st->lock);
	WRITE_ONCE(st->threshold, percent);
	st->threshold_chunks = percent ?
		max_t(u64, 1, DIV_ROUND_UP_ULL(st->nr_chunks * percent, 100)) : 0;
	st->above = false;
	full = threshold_crossed(st);
	used = st->used;
	spin_unlock(&st->lock);
	if (full)
		st->full(st->full_data, used, st->nr_chunks, full);
}

/**
 * volsnap_store_threshold() - the fill threshold in percent
 * @st: the store.
 *
 * Return: the percentage, 0 for none.
 */
unsigned int volsnap_store_threshold(struct volsnap_store *st)
{
	return READ_ONCE(st->threshold);
}

/**
 * volsnap_store_map() - where a data chunk of a store with extents lies
 * @st: the store, with @st->extents.
 * @chunk: data chunk number, from volsnap_store_alloc_run().
 *
 * Called by volsnap_store_sector() for stores of more than one extent:
 * a binary search of the extent table, which does not change while the
 * store is open.
 *
 * Return: the chunk's first sector on @st->bdev; for a number no extent
 * holds (a bug), the device's end, where the bio fails instead of writing
 * someone else's blocks.
 */
sector_t volsnap_store_map(const struct volsnap_store *st, u64 chunk)
{
	unsigned int lo = 0, hi = st->nr_extents, mid;
	const struct volsnap_store_extent *e;

	/* The last extent whose first chunk is <= @chunk. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (st->extents[mid].chunk <= chunk)
			lo = mid;
		else
			hi = mid;
	}
	e = &st->extents[lo];
	/* Not in an extent: a sector past the device's end fails the bio. */
	if (WARN_ON_ONCE(chunk < e->chunk || chunk >= e->chunk + e->nr))
		return bdev_nr_sectors(st->bdev);
	return e->sector + ((chunk - e->chunk) << st->chunk_shift);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow store in a regular file on another filesystem.
 *
 * Like a swap file: the file is pinned (S_SWAPFILE, so that writes,
 * truncation, fallocate, reflink and defragmentation by anyone else fail
 * with ETXTBSY), its blocks are mapped once with bmap(), and all store I/O
 * then goes straight to the filesystem's block device at the mapped
 * sectors, below the page cache and the filesystem. The file must be
 * fully written: bmap() maps neither holes nor unwritten (fallocated but
 * never written) extents, and both are refused. A file chunk whose blocks
 * are not contiguous on the device is left unused; the contiguous ones
 * form the extent table of struct volsnap_store.
 *
 * The file's page cache is written back before the mapping and dropped
 * at attach and detach, so that reading the file afterwards shows what
 * the module wrote.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": store: " fmt

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "store.h"

/*
 * Filesystems whose file blocks stay where bmap() found them while the
 * file is S_SWAPFILE (their defragmenters and reflink refuse a swap
 * file, and they move no blocks by themselves). Others (f2fs's garbage
 * collector, btrfs, bcachefs) may move them, or map blocks bmap() cannot
 * describe: swapon asks those through ->swap_activate, which a module
 * cannot use for itself.
 */
static bool fs_keeps_blocks(struct super_block *sb)
{
	static const char *const names[] = { "ext4", "ext3", "ext2", "xfs" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(sb->s_type->name, names[i]))
			return true;
	return false;
}

/*
 * Pin @inode as swapon does: -ETXTBSY if swap or another store has it.
 * Direct I/O that passed its checks before the flag was set is waited
 * for: it could otherwise land on the blocks after they are mapped.
 */
static int file_pin(struct inode *inode)
{
	int ret = 0;

	inode_lock(inode);
	if (IS_SWAPFILE(inode)) {
		ret = -ETXTBSY;
	} else {
		inode->i_flags |= S_SWAPFILE;
		inode_dio_wait(inode);
	}
	inode_unlock(inode);
	return ret;
}

static void file_unpin(struct inode *inode)
{
	inode_lock(inode);
	inode->i_flags &= ~S_SWAPFILE;
	inode_unlock(inode);
}

/*
 * At most this many extents (24 MiB of table): a file more fragmented is
 * refused rather than costing the kernel memory in proportion.
 */
#define STORE_FILE_MAX_EXTENTS	(1024U * 1024)

/* Append data chunks at @sector to the table: the last run, or a new one. */
static int extent_add(struct volsnap_store *st, unsigned int *room,
		      sector_t sector, bool follows)
{
	struct volsnap_store_extent *e = st->nr_extents ?
		&st->extents[st->nr_extents - 1] : NULL, *bigger;

	if (e && follows && e->sector + (e->nr << st->chunk_shift) == sector) {
		e->nr++;
		goto added;
	}
	if (st->nr_extents == *room) {
		if (*room >= STORE_FILE_MAX_EXTENTS) {
			pr_err("%pD: more than %u extents: defragment it or make a new one\n",
			       st->file, STORE_FILE_MAX_EXTENTS);
			return -E2BIG;
		}
		*room = max(16U, *room * 2);
		bigger = kvmalloc_array(*room, sizeof(*bigger),
					GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!bigger)
			return -ENOMEM;
		if (st->extents)
			memcpy(bigger, st->extents,
			       st->nr_extents * sizeof(*bigger));
		kvfree(st->extents);
		st->extents = bigger;
	}
	e = &st->extents[st->nr_extents++];
	/* One number left unused after the previous extent. */
	e->chunk = st->nr_bits ? st->nr_bits + 1 : 0;
	e->nr = 1;
	e->sector = sector;
added:
	st->nr_bits = e->chunk + e->nr;
	st->nr_chunks++;
	return 0;
}

/*
 * The device block of file chunk @fc's first block, or 0 when its blocks
 * are not contiguous. -ENODATA for a hole or an unwritten block.
 */
static int chunk_map(struct volsnap_store *st, struct inode *inode, u64 fc,
		     sector_t *first)
{
	unsigned int per = 1U << (st->chunk_shift + SECTOR_SHIFT - inode->i_blkbits);
	sector_t block;
	unsigned int i;
	int ret;

	*first = 0;
	for (i = 0; i < per; i++) {
		block = fc * per + i;
		ret = bmap(inode, &block);
		if (ret)
			return ret;
		if (!block) {
			pr_err("%pD: no block mapped at byte %llu: a hole, unwritten (preallocated) blocks, or blocks the filesystem will not map (xfs reflink or realtime); write it in full\n",
			       st->file, (fc * per + i) << inode->i_blkbits);
			return -ENODATA;
		}
		if (!i)
			*first = block;
		else if (block != *first + i)
			*first = 0;	/* still checked for holes to the end */
	}
	return 0;
}

/*
 * The header's sector: the blocks of its 4096 bytes at the file's start
 * must be written and contiguous (the rest of chunk 0 is not used).
 */
static int header_map(struct volsnap_store *st, struct inode *inode)
{
	unsigned int i, n = max(1U, VOLSNAP_STORE_HEADER_SIZE >> inode->i_blkbits);
	sector_t block, first = 0;
	int ret;

	for (i = 0; i < n; i++) {
		block = i;
		ret = bmap(inode, &block);
		if (ret)
			return ret;
		if (!block) {
			pr_err("%pD: no block mapped at byte %llu: a hole, unwritten (preallocated) blocks, or blocks the filesystem will not map (xfs reflink or realtime); write it in full\n",
			       st->file, (u64)i << inode->i_blkbits);
			return -ENODATA;
		}
		if (!i) {
			first = block;
		} else if (block != first + i) {
			pr_err("%pD: its first %u bytes (the header) are not contiguous on %pg\n",
			       st->file, VOLSNAP_STORE_HEADER_SIZE, st->bdev);
			return -EINVAL;
		}
	}
	st->header_sector = first << (inode->i_blkbits - SECTOR_SHIFT);
	return 0;
}

/**
 * volsnap_store_file_map() - pin a regular file and map its chunks
 * @st: the store being opened, with @chunk_shift set.
 * @file: the file; the store takes its own reference.
 *
 * Fills @st's @file, @bdev, @header_sector, @extents (or @data_sector
 * when the data chunks are one extent), @nr_chunks and @nr_bits.
 *
 * Context: process context, may sleep; one bmap() per filesystem block.
 * Return: 0 or -EOPNOTSUPP the filesystem has no block device, cannot
 * map blocks (tmpfs, btrfs) or may move them (anything but ext2/3/4 and
 * xfs), or the file is encrypted or DAX, -ETXTBSY the file is swap or
 * another store, -EBADF it is not open for writing, -EPERM it is
 * immutable or append-only, -E2BIG it has more than
 * STORE_FILE_MAX_EXTENTS extents, -ENODATA it has a hole or unwritten
 * blocks, -EINVAL its size is not a multiple of the filesystem block, the
 * chunk is smaller than a block, or the header's 4096 bytes are not
 * contiguous, -ENOSPC it has no room for the header and one data chunk,
 * -EINTR a fatal signal came; nothing is held on error.
 */
int volsnap_store_file_map(struct volsnap_store *st, struct file *file)
{
	struct inode *inode = file_inode(file);
	struct super_block *sb = inode->i_sb;
	unsigned int room = 0, sectors_per_block;
	sector_t first;
	u64 fc, nr_fc;
	loff_t size;
	bool follows = false;
	int ret;

	if (!sb->s_bdev || !inode->i_mapping->a_ops->bmap ||
	    !fs_keeps_blocks(sb)) {
		pr_err("%pD: its filesystem (%s) cannot map file blocks to a device for good (ext4 and xfs can)\n",
		       file, sb->s_type->name);
		return -EOPNOTSUPP;
	}
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	/* Its blocks would hold plain text, or change behind the flag. */
	if (IS_ENCRYPTED(inode) || IS_DAX(inode)) {
		pr_err("%pD: an encrypted or DAX file cannot hold a store\n", file);
		return -EOPNOTSUPP;
	}
	if (IS_IMMUTABLE(inode) || IS_APPEND(inode)) {
		pr_err("%pD: immutable or append-only\n", file);
		return -EPERM;
	}
	if (SECTOR_SIZE << st->chunk_shift < i_blocksize(inode)) {
		pr_err("%pD: chunk smaller than the filesystem block (%u bytes)\n",
		       file, i_blocksize(inode));
		return -EINVAL;
	}
	ret = file_pin(inode);
	if (ret) {
		pr_err("%pD: in use as swap or as another store\n", file);
		return ret;
	}
	st->file = get_file(file);
	st->bdev = sb->s_bdev;

	/* What others wrote through the page cache must be on the blocks. */
	ret = vfs_fsync(file, 1);
	if (ret)
		goto fail;
	size = i_size_read(inode);
	if (size & (i_blocksize(inode) - 1)) {
		pr_err("%pD: size %lld is not a multiple of the filesystem block (%u bytes)\n",
		       file, size, i_blocksize(inode));
		ret = -EINVAL;
		goto fail;
	}
	nr_fc = size >> (st->chunk_shift + SECTOR_SHIFT);
	if (nr_fc < 2) {
		ret = -ENOSPC;
		goto fail;
	}
	sectors_per_block = i_blocksize(inode) >> SECTOR_SHIFT;
	ret = header_map(st, inode);
	if (ret)
		goto fail;

	/* Data chunks: the file's chunks after the first, in file order. */
	for (fc = 1; fc < nr_fc; fc++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto fail;
		}
		cond_resched();
		ret = chunk_map(st, inode, fc, &first);
		if (ret)
			goto fail;
		if (first) {
			ret = extent_add(st, &room, first * sectors_per_block,
					 follows);
			if (ret)
				goto fail;
		}
		follows = first;
	}
	if (st->nr_extents == 1) {
		/* One run: the same arithmetic as a device store. */
		st->data_sector = st->extents[0].sector;
		kvfree(st->extents);
		st->extents = NULL;
	}
	/* Reads of the file must not find pages older than our writes. */
	invalidate_mapping_pages(inode->i_mapping, 0, -1);
	pr_info("%pD on %pg: %llu data chunks in %u extent(s), %llu file chunk(s) not contiguous\n",
		file, st->bdev, st->nr_chunks, st->nr_extents,
		nr_fc - 1 - st->nr_chunks);
	return 0;

fail:
	volsnap_store_file_unmap(st);
	return ret;
}

/**
 * volsnap_store_file_unmap() - unpin the file and drop the reference
 * @st: the store.
 */
void volsnap_store_file_unmap(struct volsnap_store *st)
{
	struct inode *inode = file_inode(st->file);

	kvfree(st->extents);
	st->extents = NULL;
	st->nr_extents = 0;
	/* The page cache holds nothing we wrote: drop what it has. */
	invalidate_mapping_pages(inode->i_mapping, 0, -1);
	file_unpin(inode);
	fput(st->file);
	st->file = NULL;
	st->bdev = NULL;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference the module cares about, in one place.
 *
 * Supported: Linux 6.1 up to 6.4 (blkdev_get_by_dev, freeze_bdev) and 6.9
 * onwards (bdev_file_open_by_dev, bdev_freeze, blk_alloc_disk with queue
 * limits). Debian's 6.1 and 6.12 are tested, and the newest source Debian
 * ships in the debug lane. 6.5 to 6.8 changed these interfaces three times
 * and are not supported.
 */
#ifndef VOLSNAP_COMPAT_H
#define VOLSNAP_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/ftrace.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) && \
	 LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0))
#error "volsnap supports Linux 6.1 to 6.4 and 6.9 or later"
#endif

#ifndef CONFIG_DYNAMIC_FTRACE_WITH_ARGS
#error "volsnap needs CONFIG_DYNAMIC_FTRACE_WITH_ARGS to redirect submit_bio_noacct()"
#endif

#define VOLSNAP_NEW_BDEV_API (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0))

/**
 * struct volsnap_bdev - an open block device, whatever the kernel calls it
 * @bdev: the block device.
 * @file: the open file (kernels with bdev_file_open_by_dev()).
 * @mode: the open mode (older kernels need it to close).
 */
struct volsnap_bdev {
	struct block_device *bdev;
#if VOLSNAP_NEW_BDEV_API
	struct file *file;
#else
	fmode_t mode;
#endif
};

/**
 * volsnap_bdev_open() - open a block device by number
 * @vb: filled in on success.
 * @dev: device number.
 * @write: open for writing as well as reading.
 * @holder: exclusive holder, or NULL for a shared open.
 *
 * Return: 0 or a negative errno.
 */
static inline int volsnap_bdev_open(struct volsnap_bdev *vb, dev_t dev,
				    bool write, void *holder)
{
#if VOLSNAP_NEW_BDEV_API
	blk_mode_t mode = BLK_OPEN_READ | (write ? BLK_OPEN_WRITE : 0);
	struct file *file = bdev_file_open_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(file))
		return PTR_ERR(file);
	vb->file = file;
	vb->bdev = file_bdev(file);
#else
	fmode_t mode = FMODE_READ | (write ? FMODE_WRITE : 0) |
		       (holder ? FMODE_EXCL : 0);
	struct block_device *bdev = blkdev_get_by_dev(dev, mode, holder);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	vb->bdev = bdev;
	vb->mode = mode;
#endif
	return 0;
}

/**
 * volsnap_bdev_close() - close a block device opened by volsnap_bdev_open()
 * @vb: the device; its @bdev is cleared.
 */
static inline void volsnap_bdev_close(struct volsnap_bdev *vb)
{
	if (!vb->bdev)
		return;
#if VOLSNAP_NEW_BDEV_API
	/* bdev_fput() gives up an exclusive claim at once, unlike fput(). */
	bdev_fput(vb->file);
	vb->file = NULL;
#else
	blkdev_put(vb->bdev, vb->mode);
#endif
	vb->bdev = NULL;
}

/* Filesystem freeze of whatever is mounted on @bdev (nothing: no-op). */
static inline int volsnap_freeze_bdev(struct block_device *bdev)
{
#if VOLSNAP_NEW_BDEV_API
	return bdev_freeze(bdev);
#else
	return freeze_bdev(bdev);
#endif
}

static inline int volsnap_thaw_bdev(struct block_device *bdev)
{
#if VOLSNAP_NEW_BDEV_API
	return bdev_thaw(bdev);
#else
	return thaw_bdev(bdev);
#endif
}

/**
 * volsnap_alloc_disk() - allocate a bio-based disk
 * @lbs: logical block size.
 * @pbs: physical block size.
 *
 * Return: the disk or an ERR_PTR().
 */
static inline struct gendisk *volsnap_alloc_disk(unsigned int lbs,
						 unsigned int pbs)
{
#if VOLSNAP_NEW_BDEV_API
	struct queue_limits lim = {
		.logical_block_size	= lbs,
		.physical_block_size	= pbs,
	};

	return blk_alloc_disk(&lim, NUMA_NO_NODE);
#else
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);

	if (!disk)
		return ERR_PTR(-ENOMEM);
	blk_queue_logical_block_size(disk->queue, lbs);
	blk_queue_physical_block_size(disk->queue, pbs);
	return disk;
#endif
}

/*
 * block_device_operations.open: the image device refuses write opens
 * unless it is writable. VOLSNAP_OPEN_ARGS declares the arguments,
 * volsnap_open_disk() and volsnap_open_for_write() read them.
 */
#if VOLSNAP_NEW_BDEV_API
#define VOLSNAP_OPEN_ARGS struct gendisk *disk, blk_mode_t mode
#define volsnap_open_disk() (disk)
#define volsnap_open_for_write() ((mode) & BLK_OPEN_WRITE)
#else
#define VOLSNAP_OPEN_ARGS struct block_device *bdev, fmode_t mode
#define volsnap_open_disk() (bdev->bd_disk)
#define volsnap_open_for_write() ((mode) & FMODE_WRITE)
#endif

/* Redirect the traced function to @ip (the ftrace_regs accessor was renamed). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define volsnap_ftrace_set_ip(fregs, ip) \
	ftrace_regs_set_instruction_pointer(fregs, ip)
#else
#define volsnap_ftrace_set_ip(fregs, ip) \
	ftrace_instruction_pointer_set(fregs, ip)
#endif

/* Wait for every request in flight on a blk-mq queue: freeze, unfreeze. */
static inline void volsnap_drain_queue(struct request_queue *q)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	unsigned int memflags = blk_mq_freeze_queue(q);

	blk_mq_unfreeze_queue(q, memflags);
#else
	blk_mq_freeze_queue(q);
	blk_mq_unfreeze_queue(q);
#endif
}

#endif /* VOLSNAP_COMPAT_H */

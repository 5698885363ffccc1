// SPDX-License-Identifier: GPL-2.0
/*
 * Synchronous I/O for the module's own use. Every bio goes through
 * volsnap_hook_submit(), so the filter never sees the module's own I/O.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/completion.h>

#include "hook.h"
#include "io.h"

static void io_endio(struct bio *bio)
{
	complete(bio->bi_private);
}

/**
 * volsnap_io_wait() - submit a bio below the filter and wait for it
 * @bio: a fully built bio; bi_private and bi_end_io are overwritten. The
 *	caller still owns it afterwards.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno from the bio's status.
 */
int volsnap_io_wait(struct bio *bio)
{
	DECLARE_COMPLETION_ONSTACK(done);

	bio->bi_private = &done;
	bio->bi_end_io = io_endio;
	volsnap_hook_submit(bio);
	wait_for_completion_io(&done);
	return blk_status_to_errno(bio->bi_status);
}

/**
 * volsnap_io_page() - read or write up to one page synchronously
 * @bdev: the device.
 * @sector: where.
 * @page: the data.
 * @len: bytes, at most PAGE_SIZE.
 * @opf: operation and flags.
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int volsnap_io_page(struct block_device *bdev, sector_t sector,
		    struct page *page, unsigned int len, blk_opf_t opf)
{
	struct bio *bio;
	int ret;

	bio = bio_alloc(bdev, 1, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = sector;
	__bio_add_page(bio, page, len, 0);
	ret = volsnap_io_wait(bio);
	bio_put(bio);
	return ret;
}

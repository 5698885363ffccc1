/* SPDX-License-Identifier: GPL-2.0 */
/* Synchronous I/O below the filter, for workers and the control path. */
#ifndef VOLSNAP_IO_H
#define VOLSNAP_IO_H

#include <linux/blk_types.h>

struct block_device;
struct page;

int volsnap_io_wait(struct bio *bio);
int volsnap_io_page(struct block_device *bdev, sector_t sector,
		    struct page *page, unsigned int len, blk_opf_t opf);

#endif /* VOLSNAP_IO_H */

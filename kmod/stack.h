/* SPDX-License-Identifier: GPL-2.0 */
/* Which block devices write to which: stacking through dm, md and loop. */
#ifndef VOLSNAP_STACK_H
#define VOLSNAP_STACK_H

#include <linux/types.h>

struct block_device;

bool volsnap_bdev_reaches(struct block_device *bdev,
			  struct block_device *target);

#endif /* VOLSNAP_STACK_H */

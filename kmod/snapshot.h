/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot: an epoch of an origin, shown as a read-only block device
 * (/dev/volsnapN) that reads every chunk by the epoch rule.
 */
#ifndef VOLSNAP_SNAPSHOT_H
#define VOLSNAP_SNAPSHOT_H

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct block_device;
struct gendisk;
struct kobject;
struct volsnap_origin;
struct volsnap_snapshot_info;

/**
 * struct volsnap_snapshot - one snapshot of an origin
 * @node: in the origin's snapshot list (snap_lock).
 * @o: the origin; valid while the image device is live.
 * @epoch: the snapshot's epoch, also its id.
 * @index: N of /dev/volsnapN, and the device's minor.
 * @error: 0 while valid, else why not (-ENOSPC, -EIO); set once, under
 *	the origin's snap_lock; read locklessly by the I/O path.
 * @set: the snapshot set it was created in, 0 if none.
 * @created: creation time, CLOCK_REALTIME ns.
 * @disk: the image device.
 * @holders: the origin's holders directory, in which the image has its
 *	link (a reference held), or NULL.
 * @inflight: pieces of image reads, and image writes, in flight.
 * @writable: the image accepts writes (writable.c); set once.
 * @own: chunks written through the image: chunk -> the store chunk (an
 *	xarray value) that only this snapshot reads, published once it
 *	holds the whole chunk.
 * @write_lock: protects @writes.
 * @writes: image writes and flushes waiting for @write_work.
 * @write_work: applies them, one at a time.
 * @wbuf: a chunk's worth of pages for @write_work, allocated when the
 *	image becomes writable.
 */
struct volsnap_snapshot {
	struct list_head node;
	struct volsnap_origin *o;
	u32 epoch;
	int index;
	int error;
	u64 set;
	u64 created;
	struct gendisk *disk;
	struct kobject *holders;
	atomic_t inflight;
	bool writable;
	struct xarray own;
	spinlock_t write_lock;		/* @writes */
	struct bio_list writes;
	struct work_struct write_work;
	struct page **wbuf;
};

/* Has @s a store chunk of its own for @chunk (written through the image)? */
static inline bool volsnap_image_own(struct volsnap_snapshot *s, u64 chunk,
				     u64 *store_chunk)
{
	void *entry = xa_load(&s->own, chunk);

	if (!entry)
		return false;
	*store_chunk = xa_to_value(entry);
	return true;
}

struct volsnap_snapshot *volsnap_snapshot_alloc(struct volsnap_origin *o);
int volsnap_snapshot_publish(struct volsnap_snapshot *s);
void volsnap_snapshot_discard(struct volsnap_snapshot *s);
int volsnap_snapshot_delete(struct volsnap_snapshot *s, bool force);
struct volsnap_snapshot *volsnap_snapshot_find(struct volsnap_origin *o, u32 id);
void volsnap_snapshot_prune_work(struct work_struct *work);
void volsnap_snapshot_shrunk(struct volsnap_origin *o, sector_t sectors);
bool volsnap_snapshot_needed(struct volsnap_origin *o, u32 after, u32 upto);
void volsnap_snapshot_invalidate(struct volsnap_origin *o, u32 after, u32 upto,
				 int error);
void volsnap_snapshot_info(struct volsnap_snapshot *s,
			   struct volsnap_snapshot_info *info);
unsigned int volsnap_snapshot_front_pad(void);
bool volsnap_is_image(struct block_device *bdev);
void volsnap_image_read(struct volsnap_snapshot *s, struct bio *parent,
			unsigned int offset, unsigned int sectors);

/* writable.c */
void volsnap_snapshot_init_own(struct volsnap_snapshot *s);
int volsnap_snapshot_make_writable(struct volsnap_snapshot *s);
void volsnap_snapshot_free_own(struct volsnap_snapshot *s);
void volsnap_image_write(struct volsnap_snapshot *s, struct bio *bio);
int volsnap_writable_init(void);
void volsnap_writable_exit(void);
int volsnap_snapshot_init(void);
void volsnap_snapshot_exit(void);

#endif /* VOLSNAP_SNAPSHOT_H */

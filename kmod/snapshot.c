// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot images.
 *
 * Each snapshot is a bio-based, read-only disk. A read is cut into pieces,
 * each sent as a clone of the read: a chunk with a store copy tagged >= the
 * snapshot's epoch reads the copy with the smallest such tag, together
 * with the following chunks whose copies follow it in the store; a run of
 * chunks without one reads the origin in one piece.
 *
 * A piece read from the origin can race with a write to the same chunk:
 * the write goes on once its copy is in memory. So when the read
 * completes, a chunk now preserved for the snapshot's epoch means the
 * piece is read again, from the new copy; and while any copy is in memory
 * but not yet published, a worker waits for those of the piece's chunks
 * and reads again if there were any (volsnap_cow_wait_staged()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/kobject.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/wait_bit.h>

#include <linux/volsnap.h>

#include "event.h"
#include "hook.h"
#include "origin.h"
#include "snapshot.h"

static int image_major;
static DEFINE_IDA(image_ida);

/**
 * struct volsnap_read - one piece of an image read
 * @s: the snapshot.
 * @parent: the read; one of its remaining counts is this piece's.
 * @offset: sectors from the start of @parent.
 * @sectors: length.
 * @from_origin: the piece reads the origin (then it may span chunks).
 * @work: rechecks, and re-reads, the piece after a race with an origin
 *	write.
 * @clone: the piece's bio; must be last (bioset front pad).
 */
struct volsnap_read {
	struct volsnap_snapshot *s;
	struct bio *parent;
	unsigned int offset;
	unsigned int sectors;
	bool from_origin;
	struct work_struct work;
	struct bio clone;
};

static void read_endio(struct bio *clone);

static void read_done(struct volsnap_snapshot *s)
{
	/* wake_up_var() only hashes the address: fine if s is gone. */
	if (atomic_dec_and_test(&s->inflight))
		wake_up_var(&s->inflight);
}

static void read_finish(struct volsnap_read *r, blk_status_t status)
{
	struct volsnap_snapshot *s = r->s;
	struct bio *parent = r->parent;

	if (status)
		cmpxchg(&parent->bi_status, BLK_STS_OK, status);
	bio_put(&r->clone);
	bio_endio(parent);
	read_done(s);
}

/* Sectors from @sector to the end of its chunk, at most @max. */
static unsigned int to_chunk_end(struct volsnap_origin *o, sector_t sector,
				 unsigned int max)
{
	sector_t end = (volsnap_chunk_of(o, sector) + 1) << o->chunk_shift;

	return min_t(sector_t, max, end - sector);
}

/* Does the snapshot read the chunk of @sector from the origin? */
static bool origin_serves(struct volsnap_snapshot *s, sector_t sector)
{
	u64 store_chunk;
	u32 preserved;

	if (volsnap_image_own(s, volsnap_chunk_of(s->o, sector), &store_chunk))
		return false;
	preserved = volsnap_chunkmap_find(&s->o->map, volsnap_chunk_of(s->o, sector),
					  s->epoch, &store_chunk);
	return store_chunk == VOLSNAP_NO_CHUNK && preserved < s->epoch;
}

/* Does the snapshot read the chunk of @sector from store chunk @want? */
static bool store_serves(struct volsnap_snapshot *s, sector_t sector, u64 want)
{
	u64 store_chunk;

	if (volsnap_image_own(s, volsnap_chunk_of(s->o, sector), &store_chunk))
		return store_chunk == want;
	volsnap_chunkmap_find(&s->o->map, volsnap_chunk_of(s->o, sector),
			      s->epoch, &store_chunk);
	return store_chunk == want;
}

/* Send [offset, offset + sectors) of @parent to @bdev at @sector. */
static void submit_piece(struct volsnap_snapshot *s, struct bio *parent,
			 unsigned int offset, unsigned int sectors,
			 struct block_device *bdev, sector_t sector, bool from_origin)
{
	struct volsnap_read *r;
	struct bio *clone;

	clone = bio_alloc_clone(bdev, parent, GFP_NOIO, &s->o->read_bs);
	r = container_of(clone, struct volsnap_read, clone);
	r->s = s;
	r->parent = parent;
	r->offset = offset;
	r->sectors = sectors;
	r->from_origin = from_origin;
	atomic_inc(&s->inflight);
	bio_trim(clone, offset, sectors);
	clone->bi_iter.bi_sector = sector;
	clone->bi_opf &= ~REQ_POLLED;
	clone->bi_end_io = read_endio;
	if (from_origin)
		volsnap_debug_delay(&volsnap_debug_read_delay_ms);
	volsnap_hook_submit(clone);
}

/*
 * Read [offset, offset + sectors) of @parent by the epoch rule: chunks
 * with copies from the store, runs of chunks whose copies follow each
 * other there in one piece (copies of adjacent chunks made together are
 * adjacent), runs of chunks without one from the origin in one piece.
 * Takes one remaining count on @parent per piece.
 */
void volsnap_image_read(struct volsnap_snapshot *s, struct bio *parent,
			unsigned int offset, unsigned int sectors)
{
	struct volsnap_origin *o = s->o;
	sector_t start = parent->bi_iter.bi_sector;
	unsigned int end = offset + sectors, len;
	u64 store_chunk, next;
	u32 preserved;

	while (offset < end) {
		len = to_chunk_end(o, start + offset, end - offset);
		/* A chunk written through the image: its own copy. */
		if (volsnap_image_own(s, volsnap_chunk_of(o, start + offset),
				      &store_chunk))
			preserved = 0;
		else
			preserved = volsnap_chunkmap_find(&o->map,
							  volsnap_chunk_of(o, start + offset),
							  s->epoch, &store_chunk);
		if (store_chunk != VOLSNAP_NO_CHUNK) {
			/* Copies stay put while the snapshot lives. */
			for (next = store_chunk + 1; offset + len < end &&
			     store_serves(s, start + offset + len, next); next++)
				len += to_chunk_end(o, start + offset + len,
						    end - offset - len);
			bio_inc_remaining(parent);
			submit_piece(s, parent, offset, len, o->store->bdev,
				     volsnap_store_sector(o->store, store_chunk) +
				     ((start + offset) & (volsnap_chunk_sectors(o) - 1)),
				     false);
		} else if (preserved >= s->epoch) {
			/* Its copy failed: the snapshot is invalid. */
			cmpxchg(&parent->bi_status, BLK_STS_OK, BLK_STS_IOERR);
		} else {
			/* Extend over the following chunks the origin serves. */
			while (offset + len < end && origin_serves(s, start + offset + len))
				len += to_chunk_end(o, start + offset + len,
						    end - offset - len);
			bio_inc_remaining(parent);
			submit_piece(s, parent, offset, len, o->bdev.bdev,
				     start + offset, true);
		}
		offset += len;
	}
}

static void read_retry(struct work_struct *work)
{
	struct volsnap_read *r = container_of(work, struct volsnap_read, work);
	struct volsnap_snapshot *s = r->s;
	struct bio *parent = r->parent;
	unsigned int offset = r->offset, sectors = r->sectors;

	/*
	 * Free the old piece before allocating new ones (a mempool must not
	 * be asked twice by one waiter); its count on the parent goes last.
	 */
	bio_put(&r->clone);
	volsnap_image_read(s, parent, offset, sectors);
	bio_endio(parent);
	read_done(s);
}

/* The chunks of @r's piece. */
static void piece_chunks(struct volsnap_read *r, u64 *first, u64 *last)
{
	struct volsnap_origin *o = r->s->o;
	sector_t start = r->parent->bi_iter.bi_sector + r->offset;

	*first = volsnap_chunk_of(o, start);
	*last = volsnap_chunk_of(o, start + r->sectors - 1);
}

/*
 * Was a chunk of this piece preserved for the snapshot since the lookup
 * (so an origin write may have reached it)?
 */
static bool overtaken(struct volsnap_read *r)
{
	struct volsnap_origin *o = r->s->o;
	u64 c, last;

	piece_chunks(r, &c, &last);
	for (; c <= last; c++)
		if (volsnap_chunkmap_preserved(&o->map, c) >= r->s->epoch)
			return true;
	return false;
}

/*
 * A piece read from the origin while copies were in memory: redo it if
 * one of them was for its chunks, or if one was published since.
 */
static void read_recheck(struct work_struct *work)
{
	struct volsnap_read *r = container_of(work, struct volsnap_read, work);
	u64 first, last;

	piece_chunks(r, &first, &last);
	if (volsnap_cow_wait_staged(r->s->o, first, last) || overtaken(r))
		read_retry(work);
	else
		read_finish(r, BLK_STS_OK);
}

/*
 * After a piece read from the origin: was it overtaken by a write whose
 * copy is published (redo it), or may it have been by one whose copy is
 * still in memory (check in a worker)? The copy worker publishes the map,
 * then drops nr_staged (copy_work()); load them in the other order, so a
 * read that sees no staged copy sees every copy published before it.
 */
static void read_check(struct volsnap_read *r, bool can_sleep)
{
	struct volsnap_origin *o = r->s->o;
	bool staged;

	/* Order the loads after the completed read. */
	smp_mb();
	staged = atomic_read(&o->nr_staged);
	if (can_sleep)
		volsnap_debug_delay(&volsnap_debug_read_delay_ms);
	smp_rmb();	/* pairs with smp_mb__before_atomic() in copy_work() */
	if (overtaken(r)) {
		INIT_WORK(&r->work, read_retry);
	} else if (staged) {
		INIT_WORK(&r->work, read_recheck);
	} else {
		read_finish(r, BLK_STS_OK);
		return;
	}
	if (can_sleep)
		r->work.func(&r->work);
	else
		queue_work(o->read_wq, &r->work);
}

/* read_check() in a worker, with the debug_read_delay_ms fault point. */
static void read_check_slow(struct work_struct *work)
{
	read_check(container_of(work, struct volsnap_read, work), true);
}

static void read_endio(struct bio *clone)
{
	struct volsnap_read *r = container_of(clone, struct volsnap_read, clone);
	struct volsnap_snapshot *s = r->s;

	/* An invalid snapshot's copies may have been freed and reused. */
	if (READ_ONCE(s->error)) {
		read_finish(r, BLK_STS_IOERR);
		return;
	}
	if (r->from_origin && !clone->bi_status) {
		if (unlikely(READ_ONCE(volsnap_debug_read_delay_ms))) {
			INIT_WORK(&r->work, read_check_slow);
			queue_work(s->o->read_wq, &r->work);
		} else {
			read_check(r, false);
		}
		return;
	}
	read_finish(r, clone->bi_status);
}

static void image_submit_bio(struct bio *bio)
{
	struct volsnap_snapshot *s = bio->bi_bdev->bd_disk->private_data;

	if (bio_op(bio) == REQ_OP_WRITE && READ_ONCE(s->writable)) {
		volsnap_image_write(s, bio);
		return;
	}
	if (bio_op(bio) != REQ_OP_READ) {
		/* Read-only: only an empty flush is answered. */
		if (bio_op(bio) != REQ_OP_FLUSH)
			bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
		return;
	}
	if (READ_ONCE(s->error)) {
		bio_io_error(bio);
		return;
	}
	volsnap_image_read(s, bio, 0, bio_sectors(bio));
	bio_endio(bio);
}

static int image_open(VOLSNAP_OPEN_ARGS)
{
	struct volsnap_snapshot *s = volsnap_open_disk()->private_data;

	return volsnap_open_for_write() && !READ_ONCE(s->writable) ? -EROFS : 0;
}

static void image_free_disk(struct gendisk *disk)
{
	struct volsnap_snapshot *s = disk->private_data;

	ida_free(&image_ida, s->index);
	kfree(s);
}

static const struct block_device_operations image_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= image_submit_bio,
	.open		= image_open,
	.free_disk	= image_free_disk,
};

/*
 * /sys/block/volsnapN/volsnap/: what udev needs to give the image a
 * stable name (/dev/disk/by-snapshot/ORIGIN/ID) and what lsblk and
 * scripts need to place it, without the control device. The attributes
 * go with the disk: del_gendisk() removes them and waits for readers
 * before the snapshot leaves its origin.
 */
static struct volsnap_snapshot *dev_to_snapshot(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

static ssize_t origin_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%pg\n", dev_to_snapshot(dev)->o->bdev.bdev);
}
static DEVICE_ATTR_RO(origin);

static ssize_t origin_dev_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	dev_t origin = dev_to_snapshot(dev)->o->dev;

	return sysfs_emit(buf, "%u:%u\n", MAJOR(origin), MINOR(origin));
}
static DEVICE_ATTR_RO(origin_dev);

static ssize_t id_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	return sysfs_emit(buf, "%u\n", dev_to_snapshot(dev)->epoch);
}
static DEVICE_ATTR_RO(id);

/* The snapshot set it was created in, 0 if none. */
static ssize_t set_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%llu\n", dev_to_snapshot(dev)->set);
}
static DEVICE_ATTR_RO(set);

/* Seconds since the Unix epoch, as snapctl list shows them. */
static ssize_t created_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  div_u64(dev_to_snapshot(dev)->created, NSEC_PER_SEC));
}
static DEVICE_ATTR_RO(created);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(dev_to_snapshot(dev)->error) ?
			  "invalid" : "valid");
}
static DEVICE_ATTR_RO(state);

/* 0, or why the snapshot is invalid: -ENOSPC, -EIO, ... */
static ssize_t error_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(dev_to_snapshot(dev)->error));
}
static DEVICE_ATTR_RO(error);

static struct attribute *image_attrs[] = {
	&dev_attr_origin.attr,
	&dev_attr_origin_dev.attr,
	&dev_attr_id.attr,
	&dev_attr_set.attr,
	&dev_attr_created.attr,
	&dev_attr_state.attr,
	&dev_attr_error.attr,
	NULL,
};

static const struct attribute_group image_attr_group = {
	.name	= "volsnap",
	.attrs	= image_attrs,
};

static const struct attribute_group *image_attr_groups[] = {
	&image_attr_group,
	NULL,
};

/*
 * lsblk's tree: the image lists its origin in its "slaves" directory and
 * the origin lists the image in its "holders" directory, as for a dm
 * device over the origin. Not with bd_link_disk_holder(): that expects
 * the holder to have claimed the origin for itself, and a mounted origin
 * belongs to its filesystem. The origin's disk open_mutex orders this
 * against the origin's removal (which drops its holders directory); the
 * reference taken keeps the directory for unlink_origin(). The links only
 * describe: if one cannot be made, the image works without it.
 */
static void link_origin(struct volsnap_snapshot *s)
{
	struct block_device *bdev = s->o->bdev.bdev;
	struct gendisk *disk = s->disk;
	int ret = -ENODEV;

	mutex_lock(&bdev->bd_disk->open_mutex);
	if (disk_live(bdev->bd_disk))
		ret = sysfs_create_link(bdev->bd_holder_dir,
					&disk_to_dev(disk)->kobj,
					disk->disk_name);
	if (!ret)
		s->holders = kobject_get(bdev->bd_holder_dir);
	mutex_unlock(&bdev->bd_disk->open_mutex);
	if (!ret)
		ret = sysfs_create_link(disk->slave_dir, bdev_kobj(bdev),
					kobject_name(bdev_kobj(bdev)));
	if (ret)
		pr_notice("%s: no holder link to its origin %pg: %d\n",
			  disk->disk_name, bdev, ret);
}

/* Before del_gendisk(), which takes the slaves directory away. */
static void unlink_origin(struct volsnap_snapshot *s)
{
	struct block_device *bdev = s->o->bdev.bdev;

	if (!s->holders)
		return;
	sysfs_remove_link(s->disk->slave_dir, kobject_name(bdev_kobj(bdev)));
	sysfs_remove_link(s->holders, s->disk->disk_name);
	kobject_put(s->holders);
	s->holders = NULL;
}

/**
 * volsnap_snapshot_alloc() - a snapshot and its (not yet added) disk
 * @o: the origin.
 *
 * Return: the snapshot or an ERR_PTR().
 */
struct volsnap_snapshot *volsnap_snapshot_alloc(struct volsnap_origin *o)
{
	struct block_device *bdev = o->bdev.bdev;
	struct volsnap_snapshot *s;
	struct gendisk *disk;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->o = o;
	INIT_LIST_HEAD(&s->node);
	atomic_set(&s->inflight, 0);
	volsnap_snapshot_init_own(s);
	s->index = ida_alloc_max(&image_ida, MINORMASK, GFP_KERNEL);
	if (s->index < 0) {
		ret = s->index;
		goto free;
	}
	disk = volsnap_alloc_disk(bdev_logical_block_size(bdev),
				  bdev_physical_block_size(bdev));
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_index;
	}
	disk->major = image_major;
	disk->first_minor = s->index;
	disk->minors = 1;
	disk->fops = &image_fops;
	disk->private_data = s;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "volsnap%d", s->index);
	set_capacity(disk, o->nr_sectors);
	set_disk_ro(disk, true);
	s->disk = disk;
	return s;

free_index:
	ida_free(&image_ida, s->index);
free:
	kfree(s);
	return ERR_PTR(ret);
}

/**
 * volsnap_snapshot_publish() - make the image device appear
 * @s: a snapshot already in its origin's list.
 *
 * Return: 0 or device_add_disk()'s error; on error the caller discards
 * @s.
 */
int volsnap_snapshot_publish(struct volsnap_snapshot *s)
{
	int ret = device_add_disk(NULL, s->disk, image_attr_groups);

	if (!ret)
		link_origin(s);
	return ret;
}

static void release_copy(void *data, u64 store_chunk)
{
	volsnap_store_free(data, store_chunk);
}

/* Drop the copies no live valid snapshot of @o reads any more. */
static void prune(struct volsnap_origin *o)
{
	struct volsnap_snapshot *s;
	unsigned int nr = 0;
	u32 *live;

	lockdep_assert_held(&volsnap_ctl_mutex);
	live = kmalloc_array(max(o->nr_snapshots, 1U), sizeof(*live), GFP_KERNEL);
	if (!live)
		return;	/* copies stay until the next delete */
	spin_lock(&o->snap_lock);
	list_for_each_entry(s, &o->snapshots, node)
		if (!s->error)
			live[nr++] = s->epoch;
	spin_unlock(&o->snap_lock);
	volsnap_chunkmap_prune(&o->map, live, nr, release_copy, o->store);
	kfree(live);
}

/**
 * volsnap_snapshot_prune_work() - drop what only invalid snapshots read
 * @work: the origin's prune_work, queued when a snapshot became invalid.
 *
 * Frees the store chunks of copies no valid snapshot reads, so a full
 * store that invalidated a newer snapshot makes room for the older ones'
 * copies instead of invalidating them in turn. Under volsnap_ctl_mutex:
 * no snapshot is created meanwhile (a copy for its epoch, unknown to the
 * prune, would be dropped).
 */
void volsnap_snapshot_prune_work(struct work_struct *work)
{
	struct volsnap_origin *o = container_of(work, struct volsnap_origin,
						prune_work);

	mutex_lock(&volsnap_ctl_mutex);
	prune(o);
	mutex_unlock(&volsnap_ctl_mutex);
}

/* Take @s off its origin's list; the write path stops copying for it. */
static void unlink_snapshot(struct volsnap_snapshot *s)
{
	struct volsnap_origin *o = s->o;

	spin_lock(&o->snap_lock);
	list_del_init(&s->node);
	o->nr_snapshots--;
	spin_unlock(&o->snap_lock);
	volsnap_origin_update_epoch(o);
}

/**
 * volsnap_snapshot_discard() - undo a snapshot whose disk was never added
 * @s: the snapshot, in its origin's list or not yet.
 */
void volsnap_snapshot_discard(struct volsnap_snapshot *s)
{
	if (!list_empty(&s->node)) {
		unlink_snapshot(s);
		flush_workqueue(s->o->wq);
		prune(s->o);
	}
	volsnap_snapshot_free_own(s);	/* none: never writable yet */
	put_disk(s->disk);
	ida_free(&image_ida, s->index);
	kfree(s);
}

/**
 * volsnap_snapshot_delete() - delete a snapshot, copying no data
 * @s: the snapshot.
 * @force: even if its image device is open.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0, or -EBUSY when the image is open and not @force.
 */
int volsnap_snapshot_delete(struct volsnap_snapshot *s, bool force)
{
	struct volsnap_origin *o = s->o;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (!force && disk_openers(s->disk))
		return -EBUSY;
	unlink_origin(s);
	/*
	 * Reads first: until they are done the snapshot must stay in the
	 * epoch rule, or a write could overtake a read from the origin.
	 */
	del_gendisk(s->disk);
	wait_var_event(&s->inflight, !atomic_read(&s->inflight));
	volsnap_snapshot_free_own(s);
	unlink_snapshot(s);
	/* Copies still running for its epoch land before the prune. */
	flush_workqueue(o->wq);
	prune(o);
	put_disk(s->disk);	/* frees s, now or at the last close */
	return 0;
}

/**
 * volsnap_snapshot_find() - a live snapshot of @o by id
 * @o: the origin.
 * @id: the snapshot's id (epoch).
 *
 * Context: volsnap_ctl_mutex held.
 * Return: the snapshot or NULL.
 */
struct volsnap_snapshot *volsnap_snapshot_find(struct volsnap_origin *o, u32 id)
{
	struct volsnap_snapshot *s;

	lockdep_assert_held(&volsnap_ctl_mutex);
	list_for_each_entry(s, &o->snapshots, node)
		if (s->epoch == id)
			return s;
	return NULL;
}

/* @s has just been marked invalid: tell user space. */
static void invalid_event(struct volsnap_origin *o, struct volsnap_snapshot *s,
			  int error)
{
	struct volsnap_event ev = {
		.type = VOLSNAP_EVENT_INVALID,
		.major = MAJOR(o->dev),
		.minor = MINOR(o->dev),
		.snapshot_id = s->epoch,
		.error = error,
		.image_index = s->index,
	};

	lockdep_assert_held(&o->snap_lock);
	volsnap_event_raise(&ev);
}

/**
 * volsnap_snapshot_invalidate() - mark snapshots whose image would be wrong
 * @o: the origin.
 * @after: snapshots with an epoch > @after ...
 * @upto: ... and <= @upto are affected.
 * @error: why (-ENOSPC store full, -EXDEV partitions added, -ENODEV the
 *	origin or store disappeared, or an I/O error).
 *
 * Sends a %VOLSNAP_EVENT_INVALID event for each snapshot it marks.
 *
 * Context: any process context (copy workers).
 */
void volsnap_snapshot_invalidate(struct volsnap_origin *o, u32 after, u32 upto,
				 int error)
{
	struct volsnap_snapshot *s;
	bool changed = false;

	spin_lock(&o->snap_lock);
	list_for_each_entry(s, &o->snapshots, node) {
		if (s->epoch <= after || s->epoch > upto || s->error)
			continue;
		WRITE_ONCE(s->error, error);
		changed = true;
		invalid_event(o, s, error);
		pr_warn_ratelimited("%pg: snapshot %u (volsnap%d) is invalid: %s (%d)\n",
				    o->bdev.bdev, s->epoch, s->index,
				    error == -ENOSPC ? "store full" :
				    error == -EXDEV ? "partitions added to the origin" :
				    error == -ENODEV ? "origin or store disappeared" :
				    "copy failed",
				    error);
	}
	spin_unlock(&o->snap_lock);
	if (changed) {
		volsnap_origin_update_epoch(o);
		queue_work(system_unbound_wq, &o->prune_work);
	}
}

/**
 * volsnap_snapshot_needed() - does a valid snapshot read a copy?
 * @o: the origin.
 * @after: a copy serves the snapshots with an epoch > @after ...
 * @upto: ... and <= @upto.
 *
 * Context: any process context.
 * Return: true if a live, valid snapshot's epoch lies in (@after, @upto].
 */
bool volsnap_snapshot_needed(struct volsnap_origin *o, u32 after, u32 upto)
{
	struct volsnap_snapshot *s;
	bool needed = false;

	spin_lock(&o->snap_lock);
	list_for_each_entry(s, &o->snapshots, node) {
		if (s->epoch > upto)
			break;
		if (s->epoch > after && !s->error) {
			needed = true;
			break;
		}
	}
	spin_unlock(&o->snap_lock);
	return needed;
}

/**
 * volsnap_snapshot_shrunk() - the origin shrank: invalidate larger images
 * @o: the origin.
 * @sectors: its size now.
 *
 * An image larger than the origin would read past its end; such
 * snapshots are invalid with -ERANGE. Smaller ones stay exact.
 *
 * Context: volsnap_ctl_mutex held.
 */
void volsnap_snapshot_shrunk(struct volsnap_origin *o, sector_t sectors)
{
	struct volsnap_snapshot *s;
	bool changed = false;

	lockdep_assert_held(&volsnap_ctl_mutex);
	spin_lock(&o->snap_lock);
	list_for_each_entry(s, &o->snapshots, node) {
		if (s->error || get_capacity(s->disk) <= sectors)
			continue;
		WRITE_ONCE(s->error, -ERANGE);
		changed = true;
		invalid_event(o, s, -ERANGE);
		pr_warn_ratelimited("%pg: snapshot %u (volsnap%d) is invalid: origin shrank to %llu sectors\n",
				    o->bdev.bdev, s->epoch, s->index,
				    (unsigned long long)sectors);
	}
	spin_unlock(&o->snap_lock);
	if (changed) {
		volsnap_origin_update_epoch(o);
		queue_work(system_unbound_wq, &o->prune_work);
	}
}

/**
 * volsnap_snapshot_info() - fill a snapshot's status for user space
 * @s: the snapshot.
 * @info: zeroed by the caller.
 */
void volsnap_snapshot_info(struct volsnap_snapshot *s,
			   struct volsnap_snapshot_info *info)
{
	info->id = s->epoch;
	info->image_index = s->index;
	info->image_major = image_major;
	info->image_minor = s->index;
	info->error = READ_ONCE(s->error);
	info->state = info->error ? VOLSNAP_SNAP_INVALID : 0;
	if (READ_ONCE(s->writable))
		info->state |= VOLSNAP_SNAP_WRITABLE;
	info->created_ns = s->created;
	info->set_id = s->set;
	info->chunks = volsnap_chunkmap_count(&s->o->map, s->epoch);
}

/* Is @bdev a snapshot's image device? */
bool volsnap_is_image(struct block_device *bdev)
{
	return bdev->bd_disk->fops == &image_fops;
}

/* Front pad of the origin's read bioset. */
unsigned int volsnap_snapshot_front_pad(void)
{
	return offsetof(struct volsnap_read, clone);
}

int volsnap_snapshot_init(void)
{
	int ret;

	image_major = register_blkdev(0, "volsnap");
	if (image_major < 0)
		return image_major;
	ret = volsnap_writable_init();
	if (ret)
		unregister_blkdev(image_major, "volsnap");
	return ret;
}

void volsnap_snapshot_exit(void)
{
	volsnap_writable_exit();
	unregister_blkdev(image_major, "volsnap");
	ida_destroy(&image_ida);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Origins: attach, detach, the gate, freeze and the snapshot instant.
 *
 * Every write to an attached origin passes the gate: under RCU it checks
 * that the gate is open and takes a reference on o->inflight until it
 * completes; a copy whose writes went on before it was published holds
 * one too (cow.c). Closing the gate sets o->closed, then an expedited RCU
 * grace period guarantees that every write that saw the gate open holds
 * its reference; new writes wait in o->held. The gate then kills the
 * reference count, which turns it into one atomic counter, and waits for
 * it to reach zero: no write and no unpublished copy is in flight, and the
 * epoch can be switched: a write either completed before the instant or
 * is checked against the new epoch. (A sum of per-CPU counters read while
 * a copy counts itself on one CPU and its write uncounts on another can
 * read zero with the copy in flight: percpu_ref's switch to atomic mode
 * is what makes the zero exact.) Opening the gate revives the count and
 * resubmits the held writes. The primitive works on one origin; a
 * snapshot set closes the gates of all its members first.
 *
 * Writes reach an origin by other paths than its own node: drivers stacked
 * on it (their clones are redirected by the hook like any bio), and, for a
 * partition, its whole disk. A write to a whole disk that meets attached
 * partitions is cut at their bounds; each part inside one goes through the
 * filter as a write to that partition.
 *
 * Locking: volsnap_ctl_mutex serialises every control operation and
 * protects the origins' control state; changes to the list of origins
 * also take origins_lock. The watchdog and the thaw when the freezing
 * control file is closed must never wait behind another operation (a
 * STATUS faulting on a page of the frozen filesystem would wait for them
 * forever): they take only origins_lock (to walk the list) and the
 * origin's freeze_lock, which nothing holds across user copies, syncs or
 * walks. The I/O path takes no mutex: origins are found in an RCU hash,
 * snapshots are read under o->snap_lock, the gate under o->gate_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include <linux/volsnap.h>

#include "event.h"
#include "hook.h"
#include "origin.h"
#include "snapshot.h"
#include "stack.h"

/* Serialises control operations; protects origins and their control state. */
DEFINE_MUTEX(volsnap_ctl_mutex);
/* Protects changes to the list of origins (readers hold either mutex). */
static DEFINE_MUTEX(origins_lock);
static LIST_HEAD(origins);
static DEFINE_HASHTABLE(origin_hash, 6);
static struct delayed_work poll_work;

/* Partition origins by their disk's device number (as origin_hash). */
static DEFINE_HASHTABLE(part_hash, 4);
static unsigned int nr_part_origins;	/* volsnap_ctl_mutex; read locklessly */
/* Pieces of whole-disk writes; whole-disk writes from atomic context. */
static struct bio_set split_bs;
static struct workqueue_struct *whole_wq;
static DEFINE_SPINLOCK(whole_lock);
static struct bio_list whole_deferred;	/* whole_lock */
static struct work_struct whole_work;

#define POLL_INTERVAL	HZ

static struct volsnap_origin *find_rcu(dev_t dev)
{
	struct volsnap_origin *o;

	hash_for_each_possible_rcu(origin_hash, o, hnode, dev)
		if (o->dev == dev)
			return o;
	return NULL;
}

/**
 * volsnap_origin_find() - an attached origin by device number
 * @dev: the device number.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: the origin or NULL.
 */
struct volsnap_origin *volsnap_origin_find(dev_t dev)
{
	struct volsnap_origin *o;

	lockdep_assert_held(&volsnap_ctl_mutex);
	list_for_each_entry(o, &origins, node)
		if (o->dev == dev)
			return o;
	return NULL;
}

/**
 * volsnap_origin_next() - iterate over the attached origins
 * @o: the previous one, or NULL for the first.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: the next origin, or NULL after the last.
 */
struct volsnap_origin *volsnap_origin_next(struct volsnap_origin *o)
{
	lockdep_assert_held(&volsnap_ctl_mutex);
	o = list_prepare_entry(o, &origins, node);
	list_for_each_entry_continue(o, &origins, node)
		return o;
	return NULL;
}

static bool is_store(dev_t dev)
{
	struct volsnap_origin *o;

	list_for_each_entry(o, &origins, node)
		if (o->store->bdev->bd_dev == dev)
			return true;
	return false;
}

/* The attached partition of @bio's disk that @bio meets first. RCU. */
static struct volsnap_origin *part_find_rcu(struct bio *bio)
{
	struct gendisk *disk = bio->bi_bdev->bd_disk;
	sector_t s = bio->bi_iter.bi_sector, e = bio_end_sector(bio);
	struct volsnap_origin *o, *first = NULL;
	struct block_device *p;

	hash_for_each_possible_rcu(part_hash, o, part_hnode, disk_devt(disk)) {
		p = o->bdev.bdev;
		/* Its size now, not at the last instant: it may have grown. */
		if (p->bd_disk != disk || p->bd_start_sect >= e ||
		    p->bd_start_sect + bdev_nr_sectors(p) <= s)
			continue;
		if (!first || p->bd_start_sect < first->bdev.bdev->bd_start_sect)
			first = o;
	}
	return first;
}

/*
 * @piece of a whole-disk write lies inside partition @dev, which starts at
 * @start: address it to the partition and filter it, or, if the partition
 * was detached meanwhile, send it on as it is.
 */
static void part_write(struct bio *piece, dev_t dev, sector_t start)
{
	struct volsnap_origin *o;

	rcu_read_lock();
	o = find_rcu(dev);
	if (o) {
		bio_set_dev(piece, o->bdev.bdev);
		piece->bi_iter.bi_sector -= start;
	}
	rcu_read_unlock();
	if (!o || !volsnap_origin_filter(piece))
		volsnap_hook_submit(piece);
}

/*
 * Pieces of whole-disk writes in flight: they come from split_bs, which
 * module exit frees only once none is left.
 */
static atomic_t whole_pieces = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(whole_pieces_wq);

static void whole_piece_endio(struct bio *piece)
{
	struct bio *parent = piece->bi_private;

	if (piece->bi_status && !parent->bi_status)
		parent->bi_status = piece->bi_status;
	bio_put(piece);
	bio_endio(parent);
	if (atomic_dec_and_test(&whole_pieces))
		wake_up(&whole_pieces_wq);
}

/* Tie @piece to @parent as bio_chain() does, and count it until it ends. */
static void whole_chain(struct bio *piece, struct bio *parent)
{
	piece->bi_private = parent;
	piece->bi_end_io = whole_piece_endio;
	bio_inc_remaining(parent);
	atomic_inc(&whole_pieces);
}

static void whole_defer(struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&whole_lock, flags);
	bio_list_add(&whole_deferred, bio);
	spin_unlock_irqrestore(&whole_lock, flags);
	queue_work(whole_wq, &whole_work);
}

/*
 * A write to a whole disk: cut it at the bounds of the attached partitions
 * it meets. The parts outside them go on at once, each part inside one is
 * filtered as a write to it; the pieces are chained to @bio. Sleeps to
 * allocate (GFP_NOIO); from atomic context, a worker does it. A
 * REQ_NOWAIT write fails with BLK_STS_AGAIN before any piece is sent (it
 * may not complete in part), and a REQ_ATOMIC one that would need cutting
 * with BLK_STS_NOTSUPP. Return true if the module took @bio, false if it
 * meets no attached partition (any more: what is left of it goes on).
 */
static bool whole_write(struct bio *bio)
{
	const gfp_t gfp = GFP_NOIO;
	struct volsnap_origin *o;
	sector_t start, end, s;
	struct bio *piece;
	bool last;
	dev_t dev;

	for (;;) {
		rcu_read_lock();
		o = part_find_rcu(bio);
		if (o) {
			dev = o->dev;
			start = o->bdev.bdev->bd_start_sect;
			end = start + bdev_nr_sectors(o->bdev.bdev);
		}
		rcu_read_unlock();
		if (!o)
			return false;
		if (bio->bi_opf & REQ_NOWAIT) {
			bio_wouldblock_error(bio);
			return true;
		}
		if (!in_task() || irqs_disabled()) {
			whole_defer(bio);
			return true;
		}
		/* The pieces are not polled; the submitter polls @bio. */
		bio_clear_polled(bio);

		s = bio->bi_iter.bi_sector;
#ifdef REQ_ATOMIC
		if ((bio->bi_opf & REQ_ATOMIC) &&
		    (s < start || bio_end_sector(bio) > end)) {
			bio->bi_status = BLK_STS_NOTSUPP;
			bio_endio(bio);
			return true;
		}
#endif
		if (s < start) {
			/* Before the partition: no other one is (the first). */
			piece = bio_split(bio, start - s, gfp, &split_bs);
			if (IS_ERR_OR_NULL(piece))
				goto fail;
			whole_chain(piece, bio);
			volsnap_hook_submit(piece);
			continue;
		}
		last = bio_end_sector(bio) <= end;
		if (last)	/* @bio ends when its piece does */
			piece = bio_alloc_clone(bio->bi_bdev, bio, gfp, &split_bs);
		else
			piece = bio_split(bio, end - s, gfp, &split_bs);
		if (IS_ERR_OR_NULL(piece))
			goto fail;
		whole_chain(piece, bio);
		part_write(piece, dev, start);
		if (last) {
			bio_endio(bio);
			return true;
		}
	}
fail:
	/* GFP_NOIO from a bioset does not fail; bio_split() may refuse. */
	bio->bi_status = BLK_STS_IOERR;
	bio_endio(bio);
	return true;
}

static void whole_work_fn(struct work_struct *work)
{
	struct bio_list list;
	struct bio *bio;

	spin_lock_irq(&whole_lock);
	list = whole_deferred;
	bio_list_init(&whole_deferred);
	spin_unlock_irq(&whole_lock);
	while ((bio = bio_list_pop(&list)))
		if (!whole_write(bio))
			volsnap_hook_submit(bio);
}

/**
 * volsnap_origin_filter() - the hook's callback: take writes to origins
 * @bio: a bio entering submit_bio_noacct().
 *
 * Writes to an origin's node, whether a filesystem or a driver stacked on
 * it submits them, and writes to the whole disk of a partition origin.
 * Reads, and writes to devices that are not attached, leave after a test
 * or two.
 *
 * Context: the submitter's, inside the hook's SRCU read section; perhaps
 * inside a stacked driver's ->submit_bio() (current->bio_list set). The
 * write may then sleep for its copy: the copy is read and written by the
 * origin's workers with bios of their own, never from this task's
 * bio_list, and the clones this task leaves on its bio_list meanwhile come
 * from a bioset with a rescuer.
 * Return: true if the module took @bio.
 */
bool volsnap_origin_filter(struct bio *bio)
{
	struct volsnap_origin *o;

	if (!op_is_write(bio_op(bio)) || !bio_sectors(bio))
		return false;
	/* Already remapped to its disk: resubmitted from below (a split). */
	if (bio_flagged(bio, BIO_REMAPPED))
		return false;

	rcu_read_lock();
	o = find_rcu(bio->bi_bdev->bd_dev);
	if (!o) {
		rcu_read_unlock();
		if (READ_ONCE(nr_part_origins) && !bdev_is_partition(bio->bi_bdev))
			return whole_write(bio);
		if (unlikely(READ_ONCE(volsnap_debug_miss_delay_ms)) &&
		    !(bio->bi_opf & REQ_NOWAIT) && preemptible())
			volsnap_debug_delay(&volsnap_debug_miss_delay_ms);
		return false;
	}
	/* Our own clone, its rest resubmitted from below (a split). */
	if (bio->bi_pool == &o->clone_bs) {
		rcu_read_unlock();
		return false;
	}
	if (unlikely(READ_ONCE(o->closed))) {
		unsigned long flags;

		spin_lock_irqsave(&o->gate_lock, flags);
		if (o->closed) {
			bio_list_add(&o->held, bio);
			spin_unlock_irqrestore(&o->gate_lock, flags);
			rcu_read_unlock();
			return true;
		}
		spin_unlock_irqrestore(&o->gate_lock, flags);
	}
	/* Inside RCU: a closing gate waits for this reference to be taken. */
	percpu_ref_get(&o->inflight);
	rcu_read_unlock();
	/* The count keeps o alive from here. */
	volsnap_cow_write(o, bio);
	return true;
}

/**
 * volsnap_gate_exit() - a write counted by the gate has completed
 * @o: its origin.
 *
 * Context: any (bio completion).
 */
void volsnap_gate_exit(struct volsnap_origin *o)
{
	/*
	 * The last put calls inflight_release() inside percpu_ref's RCU
	 * read section: detach frees o only after a grace period.
	 */
	percpu_ref_put(&o->inflight);
}

static void inflight_release(struct percpu_ref *ref)
{
	struct volsnap_origin *o = container_of(ref, struct volsnap_origin,
						inflight);

	wake_up(&o->drain_wq);
}

/*
 * Close the gate and wait until no write is in flight, at most @timeout
 * jiffies. Return 0, or -ETIMEDOUT (the gate stays closed; open it).
 */
static int gate_close(struct volsnap_origin *o, unsigned long timeout)
{
	spin_lock_irq(&o->gate_lock);
	WRITE_ONCE(o->closed, true);
	spin_unlock_irq(&o->gate_lock);
	/* Every write that saw the gate open holds its reference after this. */
	synchronize_rcu_expedited();
	/* Drops the initial reference: zero means nothing is in flight. */
	percpu_ref_kill(&o->inflight);
	volsnap_debug_delay(&volsnap_debug_drain_delay_ms);
	if (!wait_event_timeout(o->drain_wq, percpu_ref_is_zero(&o->inflight),
				timeout))
		return -ETIMEDOUT;
	return 0;
}

/* Open the gate and resubmit the writes held meanwhile. */
static void gate_open(struct volsnap_origin *o)
{
	struct bio_list held;
	struct bio *bio;

	percpu_ref_resurrect(&o->inflight);
	spin_lock_irq(&o->gate_lock);
	WRITE_ONCE(o->closed, false);
	held = o->held;
	bio_list_init(&o->held);
	spin_unlock_irq(&o->gate_lock);

	/*
	 * In arrival order, to a worker: the thaw (the watchdog's too) must
	 * not wait for their copies. Each holds its reference: the next
	 * instant waits for them.
	 */
	while ((bio = bio_list_pop(&held))) {
		percpu_ref_get(&o->inflight);
		volsnap_cow_defer(o, bio);
	}
}

/**
 * volsnap_origin_update_epoch() - recompute the epoch writes preserve for
 * @o: the origin.
 *
 * The newest valid snapshot's epoch, 0 if none. It only grows at a
 * snapshot instant, with the gate closed; it may shrink at any time (a
 * snapshot deleted or invalidated), which only spares copies.
 */
void volsnap_origin_update_epoch(struct volsnap_origin *o)
{
	struct volsnap_snapshot *s;
	u32 epoch = 0;

	spin_lock(&o->snap_lock);
	list_for_each_entry_reverse(s, &o->snapshots, node) {
		if (!s->error) {
			epoch = s->epoch;
			break;
		}
	}
	WRITE_ONCE(o->cow_epoch, epoch);
	spin_unlock(&o->snap_lock);
}

/* Jiffies left before @deadline, 0 if it has passed. */
static unsigned long time_left(unsigned long deadline)
{
	unsigned long now = jiffies;

	return time_before(now, deadline) ? deadline - now : 0;
}

static unsigned long hold_limit(void)
{
	return msecs_to_jiffies(READ_ONCE(volsnap_hold_limit_ms));
}

/* Tell user space that @o's writes were held for the hold limit. */
static void hold_expired_event(struct volsnap_origin *o)
{
	struct volsnap_event ev = {
		.type = VOLSNAP_EVENT_HOLD_EXPIRED,
		.major = MAJOR(o->dev),
		.minor = MINOR(o->dev),
		.count = READ_ONCE(volsnap_hold_limit_ms),
	};

	volsnap_event_raise(&ev);
}

/* The store's fill threshold was reached; any context, must not sleep. */
static void store_full_event(void *data, u64 used, u64 total,
			     unsigned int threshold)
{
	struct volsnap_origin *o = data;
	struct volsnap_event ev = {
		.type = VOLSNAP_EVENT_THRESHOLD,
		.major = MAJOR(o->dev),
		.minor = MINOR(o->dev),
		.count = used,
		.total = total,
		.threshold = threshold,
	};

	volsnap_event_raise(&ev);
}

/*
 * Freeze the filesystem (if any) and close the gate, all within the hold
 * limit, which counts from the start of the filesystem freeze.
 */
static int freeze(struct volsnap_origin *o)
{
	unsigned long start = jiffies, left;
	int ret;

	o->freeze_start = ktime_get_ns();
	o->freeze_deadline = start + hold_limit();
	ret = volsnap_freeze_bdev(o->bdev.bdev);
	if (ret)
		return ret;
	left = time_left(o->freeze_deadline);
	ret = left ? gate_close(o, left) : -ETIMEDOUT;
	if (ret) {
		if (left)
			gate_open(o);
		volsnap_thaw_bdev(o->bdev.bdev);
		pr_warn("%pg: not frozen within %u ms: snapshot failed\n",
			o->bdev.bdev, volsnap_hold_limit_ms);
		if (ret == -ETIMEDOUT)
			hold_expired_event(o);
	}
	return ret;
}

static void thaw(struct volsnap_origin *o)
{
	gate_open(o);
	volsnap_thaw_bdev(o->bdev.bdev);
}

/* End an explicit freeze, leaving @state; o->freeze_lock held. */
static void end_freeze(struct volsnap_origin *o, enum volsnap_freeze state)
{
	lockdep_assert_held(&o->freeze_lock);
	thaw(o);
	o->freeze = state;
	o->freezer = NULL;
}

static void watchdog_fn(struct work_struct *work)
{
	struct volsnap_origin *o = container_of(to_delayed_work(work),
						struct volsnap_origin, watchdog);

	mutex_lock(&o->freeze_lock);
	/* A watchdog of an earlier freeze may run late: check the deadline. */
	if (!o->dead && o->freeze == VOLSNAP_FROZEN) {
		unsigned long left = time_left(o->freeze_deadline);

		if (left) {
			schedule_delayed_work(&o->watchdog, left);
		} else {
			end_freeze(o, VOLSNAP_TIMED_OUT);
			pr_warn("%pg: frozen longer than %u ms: thawed, snapshot failed\n",
				o->bdev.bdev, volsnap_hold_limit_ms);
			hold_expired_event(o);
		}
	}
	mutex_unlock(&o->freeze_lock);
}

/**
 * volsnap_origin_freeze() - freeze an origin for an explicit snapshot
 * @o: the origin.
 * @owner: the control file; closing it thaws.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0, -EBUSY already frozen, -ETIMEDOUT writes did not drain within
 * the hold limit, or the filesystem freeze's error.
 */
int volsnap_origin_freeze(struct volsnap_origin *o, const void *owner)
{
	int ret;

	lockdep_assert_held(&volsnap_ctl_mutex);
	/* Only the control path freezes: the state cannot become FROZEN. */
	if (READ_ONCE(o->freeze) == VOLSNAP_FROZEN || o->revert_id)
		return -EBUSY;
	/* Without freeze_lock: the filesystem's sync may take long. */
	ret = freeze(o);
	if (ret)
		return ret;
	mutex_lock(&o->freeze_lock);
	o->freeze = VOLSNAP_FROZEN;
	o->freezer = owner;
	mod_delayed_work(system_wq, &o->watchdog,
			 time_left(o->freeze_deadline));
	mutex_unlock(&o->freeze_lock);
	return 0;
}

/**
 * volsnap_origin_thaw() - end an explicit freeze
 * @o: the origin.
 *
 * Context: process context; takes o->freeze_lock.
 * Return: 0, -EINVAL not frozen, -ETIMEDOUT the watchdog thawed it first.
 */
int volsnap_origin_thaw(struct volsnap_origin *o)
{
	int ret = 0;

	mutex_lock(&o->freeze_lock);
	switch (o->freeze) {
	case VOLSNAP_FROZEN:
		end_freeze(o, VOLSNAP_THAWED);
		cancel_delayed_work(&o->watchdog);
		break;
	case VOLSNAP_TIMED_OUT:
		o->freeze = VOLSNAP_THAWED;
		ret = -ETIMEDOUT;
		break;
	default:
		ret = -EINVAL;
	}
	mutex_unlock(&o->freeze_lock);
	return ret;
}

/**
 * volsnap_origin_release_owner() - thaw what a closing control file froze
 * @owner: the control file.
 *
 * Context: process context; waits for no other control operation.
 */
void volsnap_origin_release_owner(const void *owner)
{
	struct volsnap_origin *o;

	mutex_lock(&origins_lock);
	list_for_each_entry(o, &origins, node) {
		/* A revert's writer is gone: another may resume it. */
		cmpxchg(&o->revert_owner, owner, NULL);
		mutex_lock(&o->freeze_lock);
		if (o->freeze == VOLSNAP_FROZEN && o->freezer == owner) {
			pr_info("%pg: control file closed while frozen: thawed\n",
				o->bdev.bdev);
			end_freeze(o, VOLSNAP_THAWED);
			cancel_delayed_work(&o->watchdog);
		}
		mutex_unlock(&o->freeze_lock);
	}
	mutex_unlock(&origins_lock);
}

/*
 * Is the explicit freeze a snapshot is to switch inside still on? A freeze
 * the watchdog ended is reported once: here (-ETIMEDOUT, and the state
 * returns to THAWED) or by the thaw. -EINVAL: no freeze (its control file
 * was closed, or there was none).
 */
static int frozen_check(struct volsnap_origin *o)
{
	lockdep_assert_held(&o->freeze_lock);
	switch (o->freeze) {
	case VOLSNAP_FROZEN:
		return 0;
	case VOLSNAP_TIMED_OUT:
		o->freeze = VOLSNAP_THAWED;
		return -ETIMEDOUT;
	default:
		return -EINVAL;
	}
}

static bool disk_has_partitions(struct gendisk *disk)
{
	unsigned long idx = 0;
	void *part;

	rcu_read_lock();
	part = xa_find_after(&disk->part_tbl, &idx, ULONG_MAX, XA_PRESENT);
	rcu_read_unlock();
	return part;
}

/*
 * Can @o take one more snapshot? -EMLINK too many, -EXDEV a whole disk
 * that gained partitions (writes to them would bypass it).
 */
static int snapshot_check(struct volsnap_origin *o)
{
	if (o->revert_id)
		return -EBUSY;
	if (o->nr_snapshots >= READ_ONCE(volsnap_max_snapshots))
		return -EMLINK;
	if (!bdev_is_partition(o->bdev.bdev) &&
	    disk_has_partitions(o->bdev.bdev->bd_disk))
		return -EXDEV;
	return 0;
}

/*
 * The instant of @s, with @o's writes held: no write is in flight, new
 * ones wait. The image has the origin's size now (it may have grown or
 * shrunk since the last instant); copies cover what lies below it. An
 * origin that shrank since is checked against the older images here: the
 * poll compares the origin with the last instant's size, so after this
 * one it would never see the shrink.
 */
static void snapshot_switch(struct volsnap_origin *o,
			    struct volsnap_snapshot *s, u64 set_id)
{
	sector_t size = bdev_nr_sectors(o->bdev.bdev);

	if (size < o->nr_sectors)
		volsnap_snapshot_shrunk(o, size);
	WRITE_ONCE(o->nr_sectors, size);
	set_capacity(s->disk, size);
	s->epoch = ++o->last_epoch;
	s->set = set_id;
	s->created = ktime_get_real_ns();
	spin_lock(&o->snap_lock);
	list_add_tail(&s->node, &o->snapshots);
	o->nr_snapshots++;
	WRITE_ONCE(o->cow_epoch, s->epoch);
	spin_unlock(&o->snap_lock);
}

/* Make the image of @s appear and tell the caller its name in @arg. */
static int snapshot_publish(struct volsnap_origin *o,
			    struct volsnap_snapshot *s,
			    struct volsnap_create *arg)
{
	int ret = volsnap_snapshot_publish(s);

	if (ret)
		return ret;
	arg->id = s->epoch;
	arg->image_index = s->index;
	arg->image_major = s->disk->major;
	arg->image_minor = s->disk->first_minor;
	pr_info("%pg: snapshot %u is volsnap%d (writes held %llu us)\n",
		o->bdev.bdev, s->epoch, s->index, arg->hold_ns / NSEC_PER_USEC);
	return 0;
}

/**
 * volsnap_origin_snapshot() - take a snapshot
 * @o: the origin.
 * @frozen: switch inside an explicit freeze (which stays) instead of
 *	freezing and thawing here.
 * @arg: filled with the snapshot's id, device and hold time.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0, -EMLINK too many snapshots, -EINVAL @frozen without a freeze,
 * -ETIMEDOUT the freeze hit the hold limit (with @frozen, an expiry seen at
 * the call is reported before -EMLINK and -EXDEV), -EBUSY frozen and not
 * @frozen, -EXDEV a whole disk that gained partitions, or another
 * negative errno.
 */
int volsnap_origin_snapshot(struct volsnap_origin *o, bool frozen,
			    struct volsnap_create *arg)
{
	struct volsnap_snapshot *s;
	unsigned int noio = 0;
	int ret;

	lockdep_assert_held(&volsnap_ctl_mutex);
	/* The freeze's outcome first: an expired one is news to the caller. */
	if (frozen) {
		mutex_lock(&o->freeze_lock);
		ret = frozen_check(o);
		mutex_unlock(&o->freeze_lock);
		if (ret)
			return ret;
	} else if (READ_ONCE(o->freeze) == VOLSNAP_FROZEN) {
		/* Only the control path freezes: it cannot become FROZEN. */
		return -EBUSY;
	}
	ret = snapshot_check(o);
	if (ret)
		return ret;

	/* Everything that can be prepared is prepared before the hold. */
	if (frozen)	/* allocations must not wait for writes we hold */
		noio = memalloc_noio_save();
	s = volsnap_snapshot_alloc(o);
	if (IS_ERR(s)) {
		ret = PTR_ERR(s);
		goto out;
	}

	if (frozen) {
		/* The watchdog may have thawed meanwhile; it waits for us now. */
		mutex_lock(&o->freeze_lock);
		ret = frozen_check(o);
	} else {
		ret = freeze(o);
	}
	if (ret) {
		if (frozen)
			mutex_unlock(&o->freeze_lock);
		volsnap_snapshot_discard(s);
		goto out;
	}

	snapshot_switch(o, s, 0);

	if (frozen)
		mutex_unlock(&o->freeze_lock);
	else
		thaw(o);
	arg->hold_ns = ktime_get_ns() - o->freeze_start;

	ret = snapshot_publish(o, s, arg);
	if (ret)
		volsnap_snapshot_discard(s);
out:
	if (frozen)
		memalloc_noio_restore(noio);
	return ret;
}

/* Open the gates of @os[0..@n), then thaw their filesystems, last first. */
static void set_release(struct volsnap_origin **os, unsigned int held,
			unsigned int frozen)
{
	while (held)
		gate_open(os[--held]);
	while (frozen)
		volsnap_thaw_bdev(os[--frozen]->bdev.bdev);
}

/*
 * Freeze the filesystems of @os[0..@n), then hold their writes, all before
 * @deadline. Return 0 with every member frozen and held, or an error with
 * none (what was done is undone) and the failing member's index in
 * *@failed. Every gate opens before any filesystem thaws: a thaw writes
 * (the superblock), and the write may reach another member.
 */
static int set_hold(struct volsnap_origin **os, unsigned int n,
		    unsigned long deadline, unsigned int *failed)
{
	unsigned int frozen, held = 0;
	unsigned long left;
	int ret = 0;

	for (frozen = 0; frozen < n; frozen++) {
		*failed = frozen;
		ret = volsnap_freeze_bdev(os[frozen]->bdev.bdev);
		if (ret)
			goto release;
		if (!time_left(deadline)) {
			frozen++;
			ret = -ETIMEDOUT;
			goto release;
		}
	}
	for (held = 0; held < n; held++) {
		*failed = held;
		left = time_left(deadline);
		if (!left) {
			ret = -ETIMEDOUT;
			goto release;
		}
		ret = gate_close(os[held], left);
		if (ret) {
			held++;		/* its gate stays closed: open it */
			goto release;
		}
	}
	return 0;

release:
	set_release(os, held, frozen);
	return ret;
}

/*
 * May freezing or holding one member wait for another? A member stacked
 * on another (dm, md, a loop file), or whose store is, writes to it while
 * the other is frozen or held: its freeze, its thaw or its copies would
 * wait forever. -ELOOP, with the member's index in *@failed.
 */
static int set_stacked(struct volsnap_origin **os, unsigned int n,
		       unsigned int *failed)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		*failed = i;
		for (j = 0; j < n; j++)
			if (i != j &&
			    (volsnap_bdev_reaches(os[i]->bdev.bdev, os[j]->bdev.bdev) ||
			     volsnap_bdev_reaches(os[i]->store->bdev,
						  os[j]->bdev.bdev)))
				return -ELOOP;
	}
	return 0;
}

/**
 * volsnap_origin_snapshot_set() - one snapshot of each origin, at one instant
 * @os: the origins, distinct.
 * @n: how many, 1 to %VOLSNAP_SET_MAX.
 * @set_id: the set's id, recorded in each snapshot.
 * @args: filled, one per origin, as volsnap_origin_snapshot() fills its
 *	@arg; @hold_ns is the set's.
 * @failed: on an error, set to the index of the member that failed.
 *
 * Every filesystem is frozen, then every origin's writes are held, the
 * snapshots switch, every gate opens and every filesystem thaws: the
 * images of all members show one instant, and the hold limit covers the
 * whole set. All or nothing: on any error no member keeps a new snapshot
 * and every member is thawed.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0, or a negative errno as volsnap_origin_snapshot() without
 * @frozen (for the first member that failed), or -ELOOP a member stacked
 * on another, or its store on another.
 */
int volsnap_origin_snapshot_set(struct volsnap_origin **os, unsigned int n,
				u64 set_id, struct volsnap_create *args,
				unsigned int *failed)
{
	struct volsnap_snapshot **ss;
	unsigned int i, made = 0;
	u64 start, hold;
	int ret = 0;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (WARN_ON_ONCE(!n || n > VOLSNAP_SET_MAX))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		*failed = i;
		ret = READ_ONCE(os[i]->freeze) == VOLSNAP_FROZEN ? -EBUSY :
		      snapshot_check(os[i]);
		if (ret)
			return ret;
	}
	ret = set_stacked(os, n, failed);
	if (ret)
		return ret;
	*failed = n;
	ss = kcalloc(n, sizeof(*ss), GFP_KERNEL);
	if (!ss)
		return -ENOMEM;
	for (made = 0; made < n; made++) {
		*failed = made;
		ss[made] = volsnap_snapshot_alloc(os[made]);
		if (IS_ERR(ss[made])) {
			ret = PTR_ERR(ss[made]);
			goto discard;
		}
	}

	start = ktime_get_ns();
	ret = set_hold(os, n, jiffies + hold_limit(), failed);
	if (ret) {
		if (ret == -ETIMEDOUT) {
			pr_warn("snapshot set of %u: not frozen within %u ms: failed\n",
				n, volsnap_hold_limit_ms);
			for (i = 0; i < n; i++)
				hold_expired_event(os[i]);
		}
		goto discard;
	}
	for (i = 0; i < n; i++)
		snapshot_switch(os[i], ss[i], set_id);
	set_release(os, n, n);
	hold = ktime_get_ns() - start;

	for (i = 0; i < n; i++) {
		*failed = i;
		args[i].hold_ns = hold;
		ret = snapshot_publish(os[i], ss[i], &args[i]);
		if (ret)
			break;
	}
	if (!ret)
		goto out;
	/* All or nothing: the images already there go again. */
	for (made = 0; made < i; made++)
		volsnap_snapshot_delete(ss[made], true);
	for (; made < n; made++)
		volsnap_snapshot_discard(ss[made]);
	goto out;

discard:
	while (made > 0)
		volsnap_snapshot_discard(ss[--made]);
out:
	kfree(ss);
	return ret;
}

static void origin_free(struct volsnap_origin *o)
{
	if (o->read_wq)
		destroy_workqueue(o->read_wq);
	if (o->wq)
		destroy_workqueue(o->wq);
	volsnap_cow_exit(o);
	bioset_exit(&o->copy_bs);
	bioset_exit(&o->read_bs);
	bioset_exit(&o->clone_bs);
	percpu_ref_exit(&o->inflight);
	volsnap_chunkmap_destroy(&o->map);
	kfree(o);
}

static struct volsnap_origin *origin_alloc(dev_t dev, unsigned int chunk_shift)
{
	struct volsnap_origin *o;

	o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return NULL;
	o->dev = dev;
	o->chunk_shift = chunk_shift;
	init_waitqueue_head(&o->drain_wq);
	spin_lock_init(&o->gate_lock);
	bio_list_init(&o->held);
	spin_lock_init(&o->snap_lock);
	INIT_LIST_HEAD(&o->snapshots);
	mutex_init(&o->freeze_lock);
	INIT_WORK(&o->prune_work, volsnap_snapshot_prune_work);
	INIT_DELAYED_WORK(&o->watchdog, watchdog_fn);
	volsnap_chunkmap_init(&o->map);
	if (volsnap_cow_init(o))
		goto fail;
	if (percpu_ref_init(&o->inflight, inflight_release,
			    PERCPU_REF_ALLOW_REINIT, GFP_KERNEL))
		goto fail;
	/* Clones may wait on a stacked driver's bio_list: needs a rescuer. */
	if (bioset_init(&o->clone_bs, BIO_POOL_SIZE,
			offsetof(struct volsnap_io, clone), BIOSET_NEED_RESCUER) ||
	    /* Many pieces per read from inside ->submit_bio: needs a rescuer. */
	    bioset_init(&o->read_bs, BIO_POOL_SIZE,
			volsnap_snapshot_front_pad(), BIOSET_NEED_RESCUER) ||
	    bioset_init(&o->copy_bs, 2, 0, BIOSET_NEED_BVECS))
		goto fail;
	o->wq = alloc_workqueue("volsnap-%u:%u", WQ_MEM_RECLAIM | WQ_UNBOUND,
				volsnap_max_copies, MAJOR(dev), MINOR(dev));
	if (!o->wq)
		goto fail;
	o->read_wq = alloc_workqueue("volsnap-%u:%u-rd",
				     WQ_MEM_RECLAIM | WQ_UNBOUND, 0, MAJOR(dev),
				     MINOR(dev));
	if (!o->read_wq)
		goto fail;
	return o;
fail:
	origin_free(o);
	return NULL;
}

/**
 * volsnap_origin_attach() - start tracking a device
 * @dev: the origin.
 * @store_dev: its store device, when @store_file is NULL.
 * @store_file: a regular file as its store, or NULL.
 * @chunk_size: bytes, already validated.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0 or a negative errno (see VOLSNAP_IOC_ATTACH).
 */
int volsnap_origin_attach(dev_t dev, dev_t store_dev, struct file *store_file,
			  unsigned int chunk_size)
{
	struct volsnap_origin *o;
	struct block_device *bdev;
	int ret;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (volsnap_origin_find(dev) || is_store(dev))
		return -EBUSY;
	if (store_file) {
		/* Where its I/O goes (none: volsnap_store_open() refuses it). */
		bdev = file_inode(store_file)->i_sb->s_bdev;
		store_dev = bdev ? bdev->bd_dev : 0;
		/* A store on the origin itself is not supported (yet). */
		if (store_dev == dev) {
			pr_err("%pD: the store file is on the origin %pg itself\n",
			       store_file, bdev);
			return -EXDEV;
		}
	}
	if (volsnap_origin_find(store_dev) || dev == store_dev)
		return dev == store_dev ? -EINVAL : -EBUSY;

	o = origin_alloc(dev, ilog2(chunk_size) - SECTOR_SHIFT);
	if (!o)
		return -ENOMEM;
	ret = volsnap_bdev_open(&o->bdev, dev, false, NULL);
	if (ret)
		goto free;
	bdev = o->bdev.bdev;
	o->nr_sectors = bdev_nr_sectors(bdev);
	if (bdev_is_zoned(bdev) || !o->nr_sectors) {
		ret = -EINVAL;
		goto close;
	}
	/*
	 * Writes are matched by the device they are addressed to: a whole
	 * disk's partitions would bypass it. Attach the partition instead
	 * (whose whole disk's writes are cut to fit, see whole_write()).
	 */
	if (!bdev_is_partition(bdev) && disk_has_partitions(bdev->bd_disk)) {
		ret = -EXDEV;
		goto close;
	}
	o->store = volsnap_store_open(store_dev, store_file, bdev,
				      o->chunk_shift, o);
	if (IS_ERR(o->store)) {
		ret = PTR_ERR(o->store);
		o->store = NULL;
		goto close;
	}
	o->store->full = store_full_event;
	o->store->full_data = o;
	volsnap_store_set_threshold(o->store, VOLSNAP_THRESHOLD_DEFAULT);

	/* Pins the module while attached: rmmod is refused. */
	__module_get(THIS_MODULE);
	mutex_lock(&origins_lock);
	list_add_tail(&o->node, &origins);
	mutex_unlock(&origins_lock);
	hash_add_rcu(origin_hash, &o->hnode, dev);
	if (bdev_is_partition(bdev)) {
		hash_add_rcu(part_hash, &o->part_hnode,
			     disk_devt(bdev->bd_disk));
		WRITE_ONCE(nr_part_origins, nr_part_origins + 1);
	}
	/*
	 * Writes that passed the filter before the origin was published are
	 * not counted by the gate: wait until they have left the hook (for a
	 * stacked driver's bios: been dispatched), then until the requests
	 * they became have completed, so that none lands after the first
	 * instant. A bio-based origin (dm, md) has no request queue to drain:
	 * what its driver still holds is covered by the filesystem freeze of
	 * each snapshot, not for raw writes (Documentation/volsnap.rst).
	 */
	volsnap_hook_sync();
	flush_workqueue(whole_wq);	/* whole-disk writes deferred before */
	if (queue_is_mq(bdev_get_queue(bdev)))
		volsnap_drain_queue(bdev_get_queue(bdev));

	schedule_delayed_work(&poll_work, POLL_INTERVAL);
	if (store_file)
		pr_info("%pg: attached, store file %pD on %pg, chunk %u KiB\n",
			bdev, store_file, o->store->bdev, chunk_size >> 10);
	else
		pr_info("%pg: attached, store %pg, chunk %u KiB\n", bdev,
			o->store->bdev, chunk_size >> 10);
	return 0;

close:
	volsnap_bdev_close(&o->bdev);
free:
	origin_free(o);
	return ret;
}

/* Has anyone but the module (the origin's open and the claim) it open? */
static bool revert_others(struct volsnap_origin *o)
{
	return atomic_read(&o->bdev.bdev->bd_openers) > 2;
}

/**
 * volsnap_origin_revert() - begin, resume or end writing a snapshot back
 * @o: the origin.
 * @s: the snapshot written back.
 * @end: end the revert instead.
 * @owner: the control file of the caller, who writes the revert.
 *
 * The caller writes @s's changed chunks to the origin device itself, where
 * copy-on-write keeps the other snapshots exact; its writes must be the
 * only ones. Beginning claims the origin exclusively, which fails while a
 * filesystem is mounted on it (or another exclusive opener has it), and
 * refuses while any other program has the origin open; a program that
 * opens it afterwards without O_EXCL is not kept out. The claim and the
 * mark stay until the revert ends or the origin is detached (forced):
 * meanwhile no mount, snapshot or freeze, and @s is not deleted. A caller
 * killed halfway resumes by beginning again, once its control file is
 * closed; only the caller that began or resumed it ends it.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0; -EBUSY in use, frozen, reverting to another snapshot or by
 * another caller; -ESTALE @s is invalid; -EMEDIUMTYPE @s is writable;
 * -EINVAL ending a revert to @s that this caller is not writing.
 */
int volsnap_origin_revert(struct volsnap_origin *o, struct volsnap_snapshot *s,
			  bool end, const void *owner)
{
	const void *running = READ_ONCE(o->revert_owner);
	int ret;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (end) {
		if (o->revert_id != s->epoch || running != owner)
			return -EINVAL;
		volsnap_bdev_close(&o->revert_claim);
		o->revert_id = 0;
		WRITE_ONCE(o->revert_owner, NULL);
		pr_info("%pg: reverted to snapshot %u\n", o->bdev.bdev, s->epoch);
		return 0;
	}
	if (o->revert_id && (o->revert_id != s->epoch || running))
		return -EBUSY;
	if (READ_ONCE(s->error))
		return -ESTALE;
	if (READ_ONCE(s->writable))
		return -EMEDIUMTYPE;	/* diff cannot list what to write */
	if (o->revert_id) {
		if (revert_others(o))
			return -EBUSY;
		WRITE_ONCE(o->revert_owner, owner);
		return 0;
	}
	if (READ_ONCE(o->freeze) == VOLSNAP_FROZEN)
		return -EBUSY;
	ret = volsnap_bdev_open(&o->revert_claim, o->dev, false, o);
	if (ret)
		return ret;
	if (revert_others(o)) {
		volsnap_bdev_close(&o->revert_claim);
		return -EBUSY;
	}
	o->revert_id = s->epoch;
	WRITE_ONCE(o->revert_owner, owner);
	pr_info("%pg: reverting to snapshot %u\n", o->bdev.bdev, s->epoch);
	return 0;
}

/**
 * volsnap_origin_detach() - stop tracking a device
 * @o: the origin.
 * @force: delete its snapshots (even open ones) instead of refusing.
 *
 * Context: volsnap_ctl_mutex held; dropped and retaken while in-flight
 * writes drain.
 * Return: 0, or -EBUSY when snapshots exist without @force.
 */
int volsnap_origin_detach(struct volsnap_origin *o, bool force)
{
	struct volsnap_snapshot *s, *tmp;
	int ret;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if ((o->nr_snapshots || o->revert_id) && !force)
		return -EBUSY;
	if (o->revert_id) {
		pr_warn("%pg: detached halfway through a revert to snapshot %u\n",
			o->bdev.bdev, o->revert_id);
		volsnap_bdev_close(&o->revert_claim);
		o->revert_id = 0;
		WRITE_ONCE(o->revert_owner, NULL);
	}
	mutex_lock(&o->freeze_lock);
	if (o->freeze == VOLSNAP_FROZEN)
		end_freeze(o, VOLSNAP_THAWED);
	o->dead = true;		/* the watchdog leaves it alone */
	mutex_unlock(&o->freeze_lock);
	list_for_each_entry_safe(s, tmp, &o->snapshots, node)
		volsnap_snapshot_delete(s, true);

	/* Unpublish: new bios pass by; then wait for those in the filter. */
	hash_del_rcu(&o->hnode);
	if (bdev_is_partition(o->bdev.bdev)) {
		hash_del_rcu(&o->part_hnode);
		WRITE_ONCE(nr_part_origins, nr_part_origins - 1);
	}
	mutex_lock(&origins_lock);
	list_del(&o->node);
	mutex_unlock(&origins_lock);
	mutex_unlock(&volsnap_ctl_mutex);

	/* The filter only uses o under RCU or while a write is counted. */
	synchronize_rcu();
	cancel_delayed_work_sync(&o->watchdog);
	/* For good: no timeout, and the count is never revived. */
	gate_close(o, MAX_SCHEDULE_TIMEOUT);
	/* A write's completion touches o under RCU after its count drops. */
	synchronize_rcu();
	flush_workqueue(o->wq);
	/* Copies invalidate snapshots (and queue it) only until here. */
	cancel_work_sync(&o->prune_work);

	ret = volsnap_store_release(o->store, o->bdev.bdev);
	if (ret)
		pr_warn("%pg: cannot mark store %pg clean: %d\n", o->bdev.bdev,
			o->store->bdev, ret);
	pr_info("%pg: detached\n", o->bdev.bdev);
	volsnap_store_close(o->store);
	volsnap_bdev_close(&o->bdev);
	origin_free(o);
	module_put(THIS_MODULE);

	mutex_lock(&volsnap_ctl_mutex);
	return 0;
}

/*
 * A device is gone when its struct device left sysfs (del_gendisk, or a
 * deleted partition).
 */
static bool bdev_gone(struct block_device *bdev)
{
	return !device_is_registered(&bdev->bd_device);
}

static void poll_fn(struct work_struct *work)
{
	struct volsnap_origin *o, *tmp;

	mutex_lock(&volsnap_ctl_mutex);
	list_for_each_entry(o, &origins, node) {
		/* Shrunk below its images: they would read past its end. */
		if (bdev_nr_sectors(o->bdev.bdev) < o->nr_sectors)
			volsnap_snapshot_shrunk(o, bdev_nr_sectors(o->bdev.bdev));
		/* A whole disk that gained partitions: they bypass it. */
		if (!bdev_is_partition(o->bdev.bdev) &&
		    disk_has_partitions(o->bdev.bdev->bd_disk))
			volsnap_snapshot_invalidate(o, 0, U32_MAX, -EXDEV);
	}
restart:
	list_for_each_entry_safe(o, tmp, &origins, node) {
		if (!bdev_gone(o->bdev.bdev) && !bdev_gone(o->store->bdev))
			continue;
		pr_warn("%pg: %s disappeared: detaching\n", o->bdev.bdev,
			bdev_gone(o->bdev.bdev) ? "origin" : "store");
		/* Tells user space which snapshots go with it. */
		volsnap_snapshot_invalidate(o, 0, U32_MAX, -ENODEV);
		/* Their uevents go out while the origin is still attached. */
		volsnap_event_flush_uevents();
		volsnap_origin_detach(o, true);
		goto restart;	/* the mutex was dropped */
	}
	if (!list_empty(&origins))
		schedule_delayed_work(&poll_work, POLL_INTERVAL);
	mutex_unlock(&volsnap_ctl_mutex);
}

int volsnap_origin_init(void)
{
	int ret;

	INIT_DELAYED_WORK(&poll_work, poll_fn);
	INIT_WORK(&whole_work, whole_work_fn);
	bio_list_init(&whole_deferred);
	/* Pieces wait on the submitter's bio_list: needs a rescuer. */
	ret = bioset_init(&split_bs, BIO_POOL_SIZE, 0, BIOSET_NEED_RESCUER);
	if (ret)
		return ret;
	whole_wq = alloc_workqueue("volsnap-whole", WQ_MEM_RECLAIM | WQ_UNBOUND,
				   0);
	if (!whole_wq) {
		bioset_exit(&split_bs);
		return -ENOMEM;
	}
	return 0;
}

/* After volsnap_hook_exit(): no new whole-disk write can be deferred. */
void volsnap_origin_exit(void)
{
	cancel_delayed_work_sync(&poll_work);
	destroy_workqueue(whole_wq);
	/* Pieces complete after their origin is gone: wait for the last. */
	wait_event(whole_pieces_wq, !atomic_read(&whole_pieces));
	synchronize_rcu();	/* whole_piece_endio() runs to its end */
	bioset_exit(&split_bs);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An origin: a live block device that volsnap tracks, with its store,
 * chunk map, snapshots and the gate that holds its writes at a snapshot
 * instant.
 */
#ifndef VOLSNAP_ORIGIN_H
#define VOLSNAP_ORIGIN_H

#include <linux/bio.h>
#include <linux/delay.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/percpu-refcount.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <linux/volsnap.h>

#include "chunkmap.h"
#include "compat.h"
#include "store.h"

struct volsnap_snapshot;

/* Freeze state of an origin (its freeze_lock). */
enum volsnap_freeze {
	VOLSNAP_THAWED,
	VOLSNAP_FROZEN,		/* filesystem frozen, writes held */
	VOLSNAP_TIMED_OUT,	/* the watchdog thawed a freeze */
};

/**
 * struct volsnap_origin - a tracked device
 * @hnode: in the lookup hash (RCU readers, volsnap_ctl_mutex writers).
 * @part_hnode: a partition's, in the hash by its whole disk (as @hnode).
 * @node: in the list of origins (volsnap_ctl_mutex).
 * @dev: the origin's device number.
 * @bdev: the origin, opened shared (a filesystem may own it).
 * @store: the shadow store.
 * @chunk_shift: log2 of the chunk size in sectors.
 * @nr_sectors: size of the origin.
 * @inflight: counts writes between the gate and their completion, and
 *	copies whose writes went on before the copy was published. Per-CPU
 *	while the gate is open; killed (atomic) by a closing gate, which
 *	waits for it to reach zero.
 * @drain_wq: woken when @inflight reaches zero.
 * @gate_lock: protects @closed (writers) and @held.
 * @closed: the gate is closed: new writes wait in @held. Read under RCU.
 * @held: writes that arrived while the gate was closed.
 * @cow_epoch: epoch of the newest valid snapshot, 0 with none; a write to
 *	a chunk preserved for an older epoch copies it first. Read locklessly.
 * @clone_bs: write clones, with struct volsnap_io in front.
 * @read_bs: snapshot read pieces, with struct volsnap_read in front.
 * @copy_bs: bios that copy chunks to the store.
 * @wq: copy workers (WQ_MEM_RECLAIM).
 * @read_wq: workers that may wait for copies, so never run on @wq: they
 *	recheck and redo image reads overtaken by writes, and run the writes
 *	submitted from atomic context (WQ_MEM_RECLAIM).
 * @cow_lock: protects @pending.
 * @pending: copies in progress, by origin chunk.
 * @queued_bytes: bytes of the chunks of @pending, at most @max_queued
 *	(reserved before a copy is made, in one step).
 * @max_queued: max_queued_mib at attach, in bytes.
 * @job_pool: copies of one chunk, for when larger ones cannot be had.
 * @waiter_pool: struct cow_waiter, one per write waiting on a copy.
 * @nr_staged: copies whose writes went on before the copy was published.
 * @pending_wq: woken when a copy finishes.
 * @defer_lock: protects @deferred.
 * @deferred: writes submitted in atomic context, for @defer_work.
 * @defer_work: runs them through volsnap_cow_write() in a worker.
 * @buf_lock: protects @bufs.
 * @bufs: free chunk buffers, one per copy that may run at once.
 * @buf_wq: woken when a buffer is freed.
 * @map: the chunk map.
 * @prune_work: drops copies only invalid snapshots read (snapshot.c).
 * @snap_lock: protects @snapshots and the snapshots' @error; changes also
 *	hold volsnap_ctl_mutex, so the control path may read without it.
 * @snapshots: live snapshots, ascending epoch.
 * @nr_snapshots: their number.
 * @last_epoch: the newest epoch handed out (volsnap_ctl_mutex).
 * @freeze_lock: protects @freeze, @freezer and @dead, and is held across
 *	a thaw and a switch inside an explicit freeze. Held only for such
 *	short steps: the watchdog and the fd-close thaw take it and never
 *	volsnap_ctl_mutex, so no other control operation delays them.
 * @freeze: freeze state; only the control path (volsnap_ctl_mutex) makes
 *	it %VOLSNAP_FROZEN, the watchdog and fd-close thaw end it.
 * @freezer: the control file that froze the origin.
 * @freeze_start: when the freeze began, ktime ns.
 * @freeze_deadline: when the hold limit of the freeze expires, jiffies.
 * @watchdog: thaws a freeze that outlives the hold limit.
 * @dead: unpublished, being torn down.
 * @revert_id: the snapshot a revert is writing back to the origin, 0
 *	with none (volsnap_ctl_mutex).
 * @revert_claim: while @revert_id is set, an exclusive open of the origin
 *	that keeps filesystems from mounting it.
 * @revert_owner: the control file of the program writing the revert
 *	back, NULL once it was closed (set under volsnap_ctl_mutex, cleared
 *	by the close without it).
 */
struct volsnap_origin {
	struct hlist_node hnode;
	struct hlist_node part_hnode;
	struct list_head node;
	dev_t dev;
	struct volsnap_bdev bdev;
	struct volsnap_store *store;
	unsigned int chunk_shift;
	sector_t nr_sectors;

	struct percpu_ref inflight;
	wait_queue_head_t drain_wq;
	spinlock_t gate_lock;		/* @closed, @held */
	bool closed;
	struct bio_list held;

	u32 cow_epoch;

	struct bio_set clone_bs;
	struct bio_set read_bs;
	struct bio_set copy_bs;
	struct workqueue_struct *wq;
	struct workqueue_struct *read_wq;

	spinlock_t cow_lock;		/* @pending */
	DECLARE_HASHTABLE(pending, 8);
	atomic_long_t queued_bytes;
	long max_queued;
	mempool_t job_pool;
	mempool_t waiter_pool;
	atomic_t nr_staged;
	wait_queue_head_t pending_wq;
	spinlock_t defer_lock;		/* @deferred */
	struct bio_list deferred;
	struct work_struct defer_work;
	spinlock_t buf_lock;		/* @bufs */
	struct list_head bufs;
	wait_queue_head_t buf_wq;

	struct volsnap_chunkmap map;

	struct work_struct prune_work;
	spinlock_t snap_lock;		/* @snapshots, their @error */
	struct list_head snapshots;
	unsigned int nr_snapshots;
	u32 last_epoch;

	struct mutex freeze_lock;	/* @freeze, @freezer, @dead */
	enum volsnap_freeze freeze;
	const void *freezer;
	u64 freeze_start;
	unsigned long freeze_deadline;
	struct delayed_work watchdog;
	bool dead;

	u32 revert_id;
	struct volsnap_bdev revert_claim;
	const void *revert_owner;
};

/**
 * struct volsnap_io - a write to an origin, between the gate and completion
 * @o: the origin; the write holds a reference on @o->inflight.
 * @orig: the submitter's bio, completed when @clone completes.
 * @pending: copies the write waits for, plus one while it is being set up.
 * @clone: what is submitted to the origin; must be last (bioset front pad).
 */
struct volsnap_io {
	struct volsnap_origin *o;
	struct bio *orig;
	atomic_t pending;
	struct bio clone;
};

extern struct mutex volsnap_ctl_mutex;
extern unsigned int volsnap_hold_limit_ms;
extern unsigned int volsnap_max_snapshots;
extern unsigned int volsnap_max_copies;
extern unsigned int volsnap_max_queued_mib;
extern unsigned int volsnap_debug_copy_delay_ms;
extern unsigned int volsnap_debug_drain_delay_ms;
extern unsigned int volsnap_debug_queue_delay_ms;
extern unsigned int volsnap_debug_read_delay_ms;
extern unsigned int volsnap_debug_miss_delay_ms;
extern unsigned int volsnap_debug_fail_alloc;
extern atomic_t volsnap_debug_alloc_failures;

/*
 * A fault point: sleep for the milliseconds a debug_* module parameter
 * says (0, the default, costs one load). Process context.
 */
static inline void volsnap_debug_delay(const unsigned int *ms)
{
	unsigned int v = READ_ONCE(*ms);

	if (unlikely(v))
		msleep(v);
}

/*
 * A fault point for kernels without failslab: true with a chance of one in
 * debug_fail_alloc (never while it is 0, the default), and the caller
 * treats its allocation as failed. Only for allocations that have a
 * fallback. Random rather than every Nth call, so that a regular pattern
 * of calls cannot always fail the same one.
 */
static inline bool volsnap_debug_fail_alloc_now(void)
{
	unsigned int n = READ_ONCE(volsnap_debug_fail_alloc);

	if (likely(!n) || get_random_u32_below(n))
		return false;
	atomic_inc(&volsnap_debug_alloc_failures);
	return true;
}

static inline u64 volsnap_chunk_of(const struct volsnap_origin *o, sector_t s)
{
	return s >> o->chunk_shift;
}

static inline sector_t volsnap_chunk_sectors(const struct volsnap_origin *o)
{
	return (sector_t)1 << o->chunk_shift;
}

/* origin.c */
struct volsnap_origin *volsnap_origin_find(dev_t dev);
struct volsnap_origin *volsnap_origin_next(struct volsnap_origin *o);
int volsnap_origin_attach(dev_t origin, dev_t store, struct file *store_file,
			  unsigned int chunk_size);
int volsnap_origin_detach(struct volsnap_origin *o, bool force);
int volsnap_origin_freeze(struct volsnap_origin *o, const void *owner);
int volsnap_origin_thaw(struct volsnap_origin *o);
void volsnap_origin_release_owner(const void *owner);
int volsnap_origin_snapshot(struct volsnap_origin *o, bool frozen,
			    struct volsnap_create *arg);
int volsnap_origin_snapshot_set(struct volsnap_origin **os, unsigned int n,
				u64 set_id, struct volsnap_create *args,
				unsigned int *failed);
void volsnap_origin_update_epoch(struct volsnap_origin *o);
int volsnap_origin_revert(struct volsnap_origin *o, struct volsnap_snapshot *s,
			  bool end, const void *owner);
void volsnap_origin_exit(void);
int volsnap_origin_init(void);

void volsnap_gate_exit(struct volsnap_origin *o);

/* cow.c */
int volsnap_cow_init(struct volsnap_origin *o);
void volsnap_cow_exit(struct volsnap_origin *o);
void volsnap_cow_write(struct volsnap_origin *o, struct bio *bio);
void volsnap_cow_defer(struct volsnap_origin *o, struct bio *bio);
bool volsnap_cow_wait_staged(struct volsnap_origin *o, u64 first, u64 last);

#endif /* VOLSNAP_ORIGIN_H */

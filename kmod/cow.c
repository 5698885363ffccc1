// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write.
 *
 * A write that passed the gate is cloned (the clone is what reaches the
 * origin; its completion completes the submitter's bio and drops the
 * write's reference on the gate). If the origin has a valid snapshot, each
 * chunk the write touches is looked up: one preserved for the newest
 * snapshot's epoch costs that lookup and nothing more. Otherwise the write
 * waits on a pending copy of the chunk, one per chunk however many writes
 * and snapshots want it, until the copy has read the chunk into memory;
 * the store write then runs while the write goes on (image reads that
 * raced with it wait for the copy to be published). A copy covers the run
 * of adjacent chunks the write touches that need one (up to 1 MiB), so a
 * large write costs one read and one store write, not one per chunk. A
 * worker runs it: read the run from the origin, release the waiting
 * writes, allocate store chunks (adjacent where free), write them, publish
 * each chunk in the chunk map.
 *
 * When a copy cannot be made (store full, store or origin I/O error), the
 * snapshots it would serve are marked invalid and the writes still go
 * through: the origin comes first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/mempool.h>
#include <linux/slab.h>

#include "hook.h"
#include "io.h"
#include "origin.h"
#include "snapshot.h"

/* Chunks one copy reads and writes in one piece at most: 1 MiB. */
#define COW_RUN_PAGES	256

struct cow_job;

/* One chunk of a copy, in the origin's pending hash (cow_lock). */
struct cow_slot {
	struct hlist_node node;
	u64 chunk;
	u64 store_chunk;
	struct cow_job *job;
};

/**
 * struct cow_job - a copy in progress of a run of adjacent chunks
 * @o: the origin.
 * @work: runs the copy.
 * @waiters: struct cow_waiter of the writes waiting for it (cow_lock).
 * @epoch: the epoch the copies are tagged with.
 * @staged: the run is read into memory and its writes went on to the
 *	origin (cow_lock to set; then the job counts as a write in flight).
 * @pooled: from the origin's job_pool (a job of one chunk).
 * @nr: chunks in the run, in @slots, ascending and adjacent.
 * @nr_extra: pages in @extra.
 * @extra: the run's pages beyond the first chunk's (which come from a
 *	reserved chunk buffer), allocated without retrying when the job is
 *	made; a job that did not get them copies one chunk.
 * @slots: the chunks.
 */
struct cow_job {
	struct volsnap_origin *o;
	struct work_struct work;
	struct list_head waiters;
	u32 epoch;
	bool staged;
	bool pooled;
	unsigned int nr;
	unsigned int nr_extra;
	struct page **extra;
	struct cow_slot slots[];
};

/* A write waiting on one copy. */
struct cow_waiter {
	struct list_head node;
	struct volsnap_io *io;
};

/* A chunk-sized buffer; o->bufs holds max_copies of them. */
struct cow_buf {
	struct list_head node;
	unsigned int nr_pages;
	struct page *pages[];
};

static void clone_endio(struct bio *clone)
{
	struct volsnap_io *io = clone->bi_private;
	struct volsnap_origin *o = io->o;
	struct bio *orig = io->orig;

	orig->bi_status = clone->bi_status;
	bio_put(clone);
	bio_endio(orig);
	/* Last: the count keeps the origin and its biosets alive. */
	volsnap_gate_exit(o);
}

static void io_release(struct volsnap_io *io)
{
	if (atomic_dec_and_test(&io->pending))
		volsnap_hook_submit(&io->clone);
}

/*
 * Does @bio change data the device will really change? Writes past its
 * end (now: an origin may have been resized) and operations the device
 * does not support fail below, copying nothing.
 */
static bool changes_data(struct volsnap_origin *o, struct bio *bio)
{
	struct block_device *bdev = o->bdev.bdev;

	if (bio_end_sector(bio) > bdev_nr_sectors(bdev))
		return false;
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
		return true;
	case REQ_OP_DISCARD:
		return bdev_max_discard_sectors(bdev);
	case REQ_OP_SECURE_ERASE:
		return bdev_max_secure_erase_sectors(bdev);
	case REQ_OP_WRITE_ZEROES:
		return bdev_write_zeroes_sectors(bdev);
	default:
		return false;
	}
}

/*
 * The chunks @bio touches that a snapshot can read: below the origin's
 * size at the newest instant (what a grown origin adds is in none). That
 * size changes only at an instant, with no write in flight.
 */
static bool bio_chunks(struct volsnap_origin *o, struct bio *bio, u64 *first,
		       u64 *last)
{
	sector_t end = min_t(sector_t, bio_end_sector(bio), o->nr_sectors);

	if (bio->bi_iter.bi_sector >= end)
		return false;
	*first = volsnap_chunk_of(o, bio->bi_iter.bi_sector);
	*last = volsnap_chunk_of(o, end - 1);
	return true;
}

/* Is every chunk that @bio touches preserved for @epoch? Lock-free. */
static bool all_preserved(struct volsnap_origin *o, struct bio *bio, u32 epoch)
{
	u64 c, last;

	if (!bio_chunks(o, bio, &c, &last))
		return true;
	for (; c <= last; c++)
		if (volsnap_chunkmap_preserved(&o->map, c) < epoch)
			return false;
	return true;
}

static struct cow_job *pending_find(struct volsnap_origin *o, u64 chunk)
{
	struct cow_slot *slot;

	lockdep_assert_held(&o->cow_lock);
	hash_for_each_possible(o->pending, slot, node, chunk)
		if (slot->chunk == chunk)
			return slot->job;
	return NULL;
}

static void copy_work(struct work_struct *work);

/* Is a copy of @chunk for an epoch older than @epoch in progress? */
static bool older_copy(struct volsnap_origin *o, u64 chunk, u32 epoch)
{
	struct cow_job *job;
	bool older;

	spin_lock(&o->cow_lock);
	job = pending_find(o, chunk);
	older = job && job->epoch < epoch;
	spin_unlock(&o->cow_lock);
	return older;
}

static unsigned int chunk_pages(const struct volsnap_origin *o)
{
	return (SECTOR_SIZE << o->chunk_shift) >> PAGE_SHIFT;
}

static void job_free_extra(struct cow_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nr_extra; i++)
		if (job->extra[i])
			__free_page(job->extra[i]);
	kfree(job->extra);
	job->extra = NULL;
	job->nr_extra = 0;
}

static void job_free(struct volsnap_origin *o, struct cow_job *job)
{
	job_free_extra(job);
	if (job->pooled)
		mempool_free(job, &o->job_pool);
	else
		kfree(job);
}

/*
 * A job for up to @want chunks. A job of several chunks, and its pages
 * beyond the first chunk, are taken only if they come at once: under
 * memory pressure the job copies one chunk, with a reserved buffer and a
 * job from the origin's pool (which waits for one to be freed rather than
 * fail).
 */
static struct cow_job *job_alloc(struct volsnap_origin *o, unsigned int want)
{
	const gfp_t gfp = GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN;
	unsigned int cp = chunk_pages(o), i;
	struct cow_job *job;

	if (want == 1)
		goto one;
	if (volsnap_debug_fail_alloc_now())
		goto one;
	job = kzalloc(struct_size(job, slots, want), gfp);
	if (!job)
		goto one;
	job->nr = want;
	job->extra = volsnap_debug_fail_alloc_now() ? NULL :
		     kcalloc((want - 1) * cp, sizeof(*job->extra), gfp);
	if (!job->extra)
		goto trim;
	job->nr_extra = (want - 1) * cp;
	for (i = 0; i < job->nr_extra; i++) {
		if (!volsnap_debug_fail_alloc_now())
			job->extra[i] = alloc_page(gfp);
		if (!job->extra[i])
			goto trim;
	}
	return job;
trim:
	job_free_extra(job);
	job->nr = 1;
	return job;
one:
	job = mempool_alloc(&o->job_pool, GFP_NOIO);
	memset(job, 0, struct_size(job, slots, 1));
	job->pooled = true;
	job->nr = 1;
	return job;
}

/* Bytes of @n chunks of @o. */
static long chunk_bytes(const struct volsnap_origin *o, unsigned int n)
{
	return (long)n << (o->chunk_shift + SECTOR_SHIFT);
}

/*
 * Reserve room for copies of @n chunks in the origin's bound of bytes
 * queued (max_queued_mib), checked and taken in one step. One job may
 * always start when nothing is queued, whatever its size.
 */
static bool queued_reserve(struct volsnap_origin *o, unsigned int n)
{
	long bytes = chunk_bytes(o, n);
	long cur = atomic_long_read(&o->queued_bytes);

	do {
		if (cur && cur + bytes > o->max_queued)
			return false;
	} while (!atomic_long_try_cmpxchg(&o->queued_bytes, &cur, cur + bytes));
	return true;
}

static void queued_release(struct volsnap_origin *o, unsigned int n)
{
	if (!n)
		return;
	atomic_long_sub(chunk_bytes(o, n), &o->queued_bytes);
	if (wq_has_sleeper(&o->pending_wq))
		wake_up(&o->pending_wq);
}

/*
 * Chunks from @c up to @last that are neither preserved for @epoch nor
 * being copied, at most a run's worth; a peek without the lock.
 */
static unsigned int run_length(struct volsnap_origin *o, u64 c, u64 last,
			       u32 epoch)
{
	unsigned int max = max(COW_RUN_PAGES / chunk_pages(o), 1U), n = 1;

	while (n < max && c + n <= last &&
	       volsnap_chunkmap_preserved(&o->map, c + n) < epoch)
		n++;
	return n;
}

/*
 * Make @io wait for a copy of every chunk it touches that is not preserved
 * for @epoch: join a copy in progress, or start one for the run of chunks
 * from there that need one. Process context; sleeps only to allocate
 * (GFP_NOIO) and while too many copies are queued.
 */
static void cow_wait(struct volsnap_origin *o, struct volsnap_io *io, u32 epoch)
{
	struct cow_job *job, *joined = NULL, *new = NULL;
	struct cow_waiter *w = NULL;
	unsigned int n;
	u64 c, last;

	if (!bio_chunks(o, &io->clone, &c, &last))
		return;
	while (c <= last) {
		/*
		 * The epoch only drops while the write is in flight (a
		 * snapshot deleted or invalidated): the rest of a large write
		 * copies only what a valid snapshot still needs.
		 */
		epoch = min(epoch, READ_ONCE(o->cow_epoch));
		if (!epoch)
			break;
		if (volsnap_chunkmap_preserved(&o->map, c) >= epoch) {
			c++;
			continue;
		}
		/*
		 * Never wait on the waiter pool while holding a pooled job
		 * (others may hold waiters and wait for jobs): give the job
		 * back first.
		 */
		if (!w && !(new && volsnap_debug_fail_alloc_now()))
			w = mempool_alloc(&o->waiter_pool,
					  new ? GFP_NOWAIT : GFP_NOIO);
		if (!w) {
			queued_release(o, new->nr);
			job_free(o, new);
			new = NULL;
			continue;
		}
		spin_lock(&o->cow_lock);
		job = pending_find(o, c);
		if (job && job->epoch < epoch) {
			/*
			 * A copy for an older snapshot does not preserve the
			 * chunk for ours: wait until it is published, then
			 * look again. (A snapshot instant waits for such
			 * copies, so this is a safety net, not a path.)
			 */
			spin_unlock(&o->cow_lock);
			wait_event(o->pending_wq, !older_copy(o, c, epoch));
			continue;
		}
		if (job) {
			/*
			 * Join it, once, unless its run is already in memory;
			 * go on after its last chunk.
			 */
			if (!job->staged && job != joined) {
				w->io = io;
				atomic_inc(&io->pending);
				list_add_tail(&w->node, &job->waiters);
				w = NULL;
				joined = job;
			}
			c = job->slots[job->nr - 1].chunk + 1;
			spin_unlock(&o->cow_lock);
			continue;
		}
		if (!new) {
			spin_unlock(&o->cow_lock);
			/* Bound the copies queued (a discard of a whole disk). */
			n = run_length(o, c, last, epoch);
			wait_event(o->pending_wq, queued_reserve(o, n));
			new = job_alloc(o, n);
			queued_release(o, n - new->nr);
			continue;	/* and look again */
		}
		/* The run: chunks still neither preserved nor being copied. */
		for (n = 0; n < new->nr && c + n <= last; n++) {
			if (volsnap_chunkmap_preserved(&o->map, c + n) >= epoch ||
			    (n && pending_find(o, c + n)))
				break;
			new->slots[n].chunk = c + n;
			new->slots[n].job = new;
			hash_add(o->pending, &new->slots[n].node, c + n);
		}
		if (!n) {	/* a copy finished since the first look */
			spin_unlock(&o->cow_lock);
			c++;
			continue;
		}
		queued_release(o, new->nr - n);
		new->nr = n;
		new->o = o;
		new->epoch = epoch;
		INIT_LIST_HEAD(&new->waiters);
		INIT_WORK(&new->work, copy_work);
		w->io = io;
		atomic_inc(&io->pending);
		list_add_tail(&w->node, &new->waiters);
		joined = new;
		spin_unlock(&o->cow_lock);
		volsnap_debug_delay(&volsnap_debug_queue_delay_ms);
		queue_work(o->wq, &new->work);
		new = NULL;
		w = NULL;
		c += n;
	}
	if (w)
		mempool_free(w, &o->waiter_pool);
	if (new) {
		queued_release(o, new->nr);
		job_free(o, new);
	}
}

/*
 * Is every chunk of @bio that is not preserved for @epoch in memory, in a
 * copy whose writes went on? Then @bio need not wait either (REQ_NOWAIT).
 */
static bool all_staged(struct volsnap_origin *o, struct bio *bio, u32 epoch)
{
	struct cow_job *job;
	bool staged = true;
	u64 c, last;

	if (!bio_chunks(o, bio, &c, &last))
		return true;
	/* cow_lock is a process-context lock. */
	if (!in_task() || irqs_disabled())
		return false;
	spin_lock(&o->cow_lock);
	for (; staged && c <= last; c++) {
		if (volsnap_chunkmap_preserved(&o->map, c) >= epoch)
			continue;
		job = pending_find(o, c);
		staged = job && job->staged && job->epoch >= epoch;
	}
	spin_unlock(&o->cow_lock);
	return staged;
}

/**
 * volsnap_cow_defer() - pass a write to a worker of the origin
 * @o: the origin.
 * @bio: the write, holding its reference on @o->inflight.
 *
 * For writes submitted from atomic context, and for the writes a thaw
 * releases (the thaw must not wait for their copies).
 *
 * Context: any.
 */
void volsnap_cow_defer(struct volsnap_origin *o, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&o->defer_lock, flags);
	bio_list_add(&o->deferred, bio);
	spin_unlock_irqrestore(&o->defer_lock, flags);
	/* Not on o->wq: the write may wait for copies that run there. */
	queue_work(o->read_wq, &o->defer_work);
}

static void defer_work(struct work_struct *work)
{
	struct volsnap_origin *o = container_of(work, struct volsnap_origin,
						defer_work);
	struct bio_list list;
	struct bio *bio;

	spin_lock_irq(&o->defer_lock);
	list = o->deferred;
	bio_list_init(&o->deferred);
	spin_unlock_irq(&o->defer_lock);
	while ((bio = bio_list_pop(&list)))
		volsnap_cow_write(o, bio);
}

/**
 * volsnap_cow_write() - send a write to the origin, copying first if needed
 * @o: the origin.
 * @bio: the write; the caller took a reference on @o->inflight for it,
 *	which passes to the write.
 *
 * Context: the submitter's; may sleep to allocate unless REQ_NOWAIT, in
 * which case a write that needs a copy fails with BLK_STS_AGAIN. Writes
 * submitted from atomic context are passed to a worker.
 */
void volsnap_cow_write(struct volsnap_origin *o, struct bio *bio)
{
	bool nowait = bio->bi_opf & REQ_NOWAIT;
	struct volsnap_io *io;
	struct bio *clone;
	u32 epoch;

	if (!nowait && (!in_task() || irqs_disabled())) {
		/* Cannot sleep here: a worker takes it from the start. */
		volsnap_cow_defer(o, bio);
		return;
	}
	clone = bio_alloc_clone(bio->bi_bdev, bio, nowait ? GFP_NOWAIT : GFP_NOIO,
				&o->clone_bs);
	if (!clone)
		goto would_block;
	/* The submitter polls for its own bio, never for the clone. */
	clone->bi_opf &= ~REQ_POLLED;
	io = container_of(clone, struct volsnap_io, clone);
	io->o = o;
	io->orig = bio;
	atomic_set(&io->pending, 1);
	clone->bi_end_io = clone_endio;
	clone->bi_private = io;

	/* Pairs with the epoch switch made before the gate reopened. */
	smp_rmb();
	epoch = READ_ONCE(o->cow_epoch);
	if (epoch && changes_data(o, clone) && !all_preserved(o, clone, epoch)) {
		if (nowait) {
			if (!all_staged(o, clone, epoch)) {
				bio_put(clone);
				goto would_block;
			}
		} else {
			cow_wait(o, io, epoch);
		}
	}
	io_release(io);
	return;

would_block:
	bio_wouldblock_error(bio);
	volsnap_gate_exit(o);
}

static struct cow_buf *buf_get(struct volsnap_origin *o)
{
	struct cow_buf *buf;

	spin_lock(&o->buf_lock);
	buf = list_first_entry_or_null(&o->bufs, struct cow_buf, node);
	if (buf)
		list_del(&buf->node);
	spin_unlock(&o->buf_lock);
	return buf;
}

static void buf_put(struct volsnap_origin *o, struct cow_buf *buf)
{
	spin_lock(&o->buf_lock);
	list_add(&buf->node, &o->bufs);
	spin_unlock(&o->buf_lock);
	wake_up(&o->buf_wq);
}

static void release_waiters(struct volsnap_origin *o, struct list_head *waiters)
{
	struct cow_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, waiters, node) {
		io_release(w->io);
		mempool_free(w, &o->waiter_pool);
	}
}

/*
 * The run is in memory: let the writes waiting for it go on to the origin
 * while the store write runs. Until its copies are published the job
 * counts as a write in flight (the writes it releases hold that count
 * now), so a snapshot instant never begins with a copy half done, and
 * image reads that may have been overtaken wait for it (nr_staged).
 */
static void job_stage(struct cow_job *job)
{
	struct volsnap_origin *o = job->o;
	LIST_HEAD(waiters);

	/* Taken while a waiting write still holds its own: never from zero. */
	percpu_ref_get(&o->inflight);
	atomic_inc(&o->nr_staged);
	/* Counted before any write it releases can reach the origin. */
	smp_mb__after_atomic();
	spin_lock(&o->cow_lock);
	job->staged = true;
	list_splice_init(&job->waiters, &waiters);
	spin_unlock(&o->cow_lock);
	release_waiters(o, &waiters);
}

/* The @i-th page of @job's run: the reserved buffer's, then its own. */
static struct page *job_page(struct cow_job *job, struct cow_buf *buf,
			     unsigned int i)
{
	return i < buf->nr_pages ? buf->pages[i] : job->extra[i - buf->nr_pages];
}

/*
 * Read or write @sectors from @sector with the run's pages from chunk
 * @first on.
 */
static int job_io(struct cow_job *job, struct cow_buf *buf, unsigned int first,
		  struct block_device *bdev, sector_t sector,
		  unsigned int sectors, blk_opf_t opf)
{
	unsigned int bytes = sectors << SECTOR_SHIFT, len, i;
	struct volsnap_origin *o = job->o;
	struct bio *bio;
	int ret;

	bio = bio_alloc_bioset(bdev, DIV_ROUND_UP(bytes, PAGE_SIZE), opf,
			       GFP_NOIO, &o->copy_bs);
	bio->bi_iter.bi_sector = sector;
	for (i = first * chunk_pages(o); bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(bio, job_page(job, buf, i), len, 0);
	}
	ret = volsnap_io_wait(bio);
	bio_put(bio);
	return ret;
}

/*
 * Copy @job's chunks to the store: store chunks first (a full store costs
 * no read), then one read of the run (then its writes go on), one write
 * per run of adjacent store chunks. On success each slot holds its store
 * chunk; on failure none is kept.
 */
static int copy_run(struct cow_job *job)
{
	struct volsnap_origin *o = job->o;
	struct cow_slot *slot = job->slots;
	sector_t start = slot[0].chunk << o->chunk_shift;
	sector_t cs = volsnap_chunk_sectors(o), end;
	unsigned int sectors, i, n, got = 0;
	struct cow_buf *buf;
	int ret = 0;

	for (i = 0; i < job->nr; i += n) {
		ret = volsnap_store_alloc_run(o->store, job->nr - i,
					      &slot[i].store_chunk);
		if (ret < 0)
			goto free;
		n = ret;
		for (got = i + 1; got < i + n; got++)
			slot[got].store_chunk = slot[got - 1].store_chunk + 1;
		got = i + n;
	}

	/*
	 * Only the device's last chunk may be short; an origin that shrank
	 * since the instant cannot be read past its end (the snapshots that
	 * lie past it are invalid, see volsnap_snapshot_shrunk()).
	 */
	end = min_t(sector_t, o->nr_sectors, bdev_nr_sectors(o->bdev.bdev));
	if (start >= end) {
		ret = -ERANGE;
		goto free;
	}
	sectors = min_t(sector_t, job->nr * cs, end - start);
	wait_event(o->buf_wq, (buf = buf_get(o)));
	volsnap_debug_delay(&volsnap_debug_copy_delay_ms);
	ret = job_io(job, buf, 0, o->bdev.bdev, start, sectors, REQ_OP_READ);
	if (!ret)
		job_stage(job);
	for (i = 0; !ret && i < job->nr; i += n) {
		for (n = 1; i + n < job->nr &&
		     slot[i + n].store_chunk == slot[i].store_chunk + n; n++)
			;
		ret = job_io(job, buf, i, o->store->bdev,
			     volsnap_store_sector(o->store, slot[i].store_chunk),
			     min_t(sector_t, n * cs, sectors - i * cs),
			     REQ_OP_WRITE);
	}
	buf_put(o, buf);
free:
	if (ret)
		while (got--)
			volsnap_store_free(o->store, slot[got].store_chunk);
	return ret;
}

/*
 * Does a valid snapshot still need a copy of one of @job's chunks? Once
 * not, never again: later snapshots have newer epochs than the job's.
 */
static bool job_needed(struct cow_job *job)
{
	struct volsnap_origin *o = job->o;
	unsigned int i;
	u32 before;

	for (i = 0; i < job->nr; i++) {
		before = volsnap_chunkmap_preserved(&o->map, job->slots[i].chunk);
		if (volsnap_snapshot_needed(o, before, job->epoch))
			return true;
	}
	return false;
}

static void copy_work(struct work_struct *work)
{
	struct cow_job *job = container_of(work, struct cow_job, work);
	struct volsnap_origin *o = job->o;
	LIST_HEAD(waiters);
	unsigned int i;
	u32 before;
	int ret;

	/* A snapshot deleted or invalidated since: nothing to read. */
	ret = job_needed(job) ? copy_run(job) : -ECANCELED;
	for (i = 0; i < job->nr; i++) {
		struct cow_slot *slot = &job->slots[i];
		u64 c = slot->chunk;

		before = volsnap_chunkmap_preserved(&o->map, c);
		/*
		 * No valid snapshot reads this copy (the ones it was made for
		 * were deleted or invalidated since): record nothing. A delete
		 * that comes later waits for this work before it prunes.
		 */
		if (!volsnap_snapshot_needed(o, before, job->epoch)) {
			if (!ret)
				volsnap_store_free(o->store, slot->store_chunk);
			continue;
		}
		if (!ret && !volsnap_chunkmap_add(&o->map, c, job->epoch,
						  slot->store_chunk)) {
			/* Invalidated and pruned meanwhile: prune it too. */
			if (!volsnap_snapshot_needed(o, before, job->epoch))
				queue_work(system_unbound_wq, &o->prune_work);
			continue;
		}
		if (!ret)
			volsnap_store_free(o->store, slot->store_chunk);
		/* The snapshots this copy would serve cannot be right. */
		volsnap_snapshot_invalidate(o, before, job->epoch, ret ?: -EIO);
		volsnap_chunkmap_add(&o->map, c, job->epoch, VOLSNAP_NO_CHUNK);
	}

	/* Published in the map first: a write that misses the job sees it. */
	spin_lock(&o->cow_lock);
	for (i = 0; i < job->nr; i++)
		hash_del(&job->slots[i].node);
	list_splice_init(&job->waiters, &waiters);
	spin_unlock(&o->cow_lock);

	/* Waiters are left only when the read failed: they go on now. */
	release_waiters(o, &waiters);
	if (job->staged) {
		/*
		 * Published in the map, then uncounted; image reads load in
		 * the other order (read_endio()), so one that sees no staged
		 * copy sees the map published.
		 */
		smp_mb__before_atomic();
		atomic_dec(&o->nr_staged);
	}
	/* Queued writers and image reads waiting for a chunk. */
	queued_release(o, job->nr);
	if (job->staged)
		volsnap_gate_exit(o);
	job_free(o, job);
}

static bool chunk_staged(struct volsnap_origin *o, u64 chunk)
{
	struct cow_job *job;
	bool staged;

	spin_lock(&o->cow_lock);
	job = pending_find(o, chunk);
	staged = job && job->staged;
	spin_unlock(&o->cow_lock);
	return staged;
}

/**
 * volsnap_cow_wait_staged() - wait for copies an origin read may have missed
 * @o: the origin.
 * @first: first chunk the read covered.
 * @last: last chunk.
 *
 * An image read from the origin raced with a write if the write's copy was
 * in memory, not yet published in the map, when the read completed. Wait
 * until such copies of these chunks are published.
 *
 * Context: process context, may sleep; not on @o->wq (copies run there).
 * Return: true if there was one: the read must be redone.
 */
bool volsnap_cow_wait_staged(struct volsnap_origin *o, u64 first, u64 last)
{
	bool found = false;
	u64 c;

	/* Pairs with copy_work(): the caller reads the map after this. */
	if (!atomic_read_acquire(&o->nr_staged))
		return false;
	for (c = first; c <= last; c++) {
		if (!chunk_staged(o, c))
			continue;
		found = true;
		wait_event(o->pending_wq, !chunk_staged(o, c));
	}
	return found;
}

/**
 * volsnap_cow_init() - set up an origin's copy-on-write engine
 * @o: the origin, with @chunk_shift set.
 *
 * Return: 0 or -ENOMEM.
 */
int volsnap_cow_init(struct volsnap_origin *o)
{
	unsigned int nr_pages = (SECTOR_SIZE << o->chunk_shift) / PAGE_SIZE;
	struct cow_buf *buf;
	unsigned int i, j;

	spin_lock_init(&o->cow_lock);
	hash_init(o->pending);
	atomic_long_set(&o->queued_bytes, 0);
	o->max_queued = (long)READ_ONCE(volsnap_max_queued_mib) << 20;
	atomic_set(&o->nr_staged, 0);
	init_waitqueue_head(&o->pending_wq);
	spin_lock_init(&o->defer_lock);
	bio_list_init(&o->deferred);
	INIT_WORK(&o->defer_work, defer_work);
	spin_lock_init(&o->buf_lock);
	INIT_LIST_HEAD(&o->bufs);
	init_waitqueue_head(&o->buf_wq);

	/*
	 * Enough one-chunk jobs and waiters for every copy that can run and
	 * a writer joining each: allocations that wait, never fail.
	 */
	if (mempool_init_kmalloc_pool(&o->job_pool, volsnap_max_copies,
				      sizeof(struct cow_job) +
				      sizeof(struct cow_slot)) ||
	    mempool_init_kmalloc_pool(&o->waiter_pool, 2 * volsnap_max_copies,
				      sizeof(struct cow_waiter)))
		goto fail;
	for (i = 0; i < volsnap_max_copies; i++) {
		buf = kzalloc(struct_size(buf, pages, nr_pages), GFP_KERNEL);
		if (!buf)
			goto fail;
		buf->nr_pages = nr_pages;
		list_add(&buf->node, &o->bufs);
		for (j = 0; j < nr_pages; j++) {
			buf->pages[j] = alloc_page(GFP_KERNEL);
			if (!buf->pages[j])
				goto fail;
		}
	}
	return 0;
fail:
	volsnap_cow_exit(o);
	return -ENOMEM;
}

/**
 * volsnap_cow_exit() - free the copy buffers; no copy may be running
 * @o: the origin.
 */
void volsnap_cow_exit(struct volsnap_origin *o)
{
	struct cow_buf *buf, *tmp;
	unsigned int j;

	WARN_ON_ONCE(!hash_empty(o->pending));
	mempool_exit(&o->waiter_pool);
	mempool_exit(&o->job_pool);
	list_for_each_entry_safe(buf, tmp, &o->bufs, node) {
		for (j = 0; j < buf->nr_pages; j++)
			if (buf->pages[j])
				__free_page(buf->pages[j]);
		list_del(&buf->node);
		kfree(buf);
	}
}

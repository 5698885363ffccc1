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
 * and snapshots want it, run by a worker: allocate a store chunk, read the
 * chunk from the origin, write it to the store, publish it in the chunk
 * map, then release the waiting writes.
 *
 * When a copy cannot be made (store full, store or origin I/O error), the
 * snapshots it would serve are marked invalid and the writes still go
 * through: the origin comes first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>

#include "hook.h"
#include "io.h"
#include "origin.h"
#include "snapshot.h"

/**
 * struct cow_pending - a copy in progress
 * @node: in the origin's pending hash (cow_lock).
 * @chunk: the origin chunk.
 * @epoch: the epoch the copy is tagged with.
 * @waiters: struct cow_waiter of the writes waiting for it (cow_lock).
 * @o: the origin.
 * @work: runs the copy.
 */
struct cow_pending {
	struct hlist_node node;
	u64 chunk;
	u32 epoch;
	struct list_head waiters;
	struct volsnap_origin *o;
	struct work_struct work;
};

/* A write waiting on one pending copy. */
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
 * Does @bio change data the device will really change? Writes past the end
 * and operations the device does not support fail below, copying nothing.
 */
static bool changes_data(struct volsnap_origin *o, struct bio *bio)
{
	struct block_device *bdev = o->bdev.bdev;

	if (bio_end_sector(bio) > o->nr_sectors)
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

/* Is every chunk that @bio touches preserved for @epoch? Lock-free. */
static bool all_preserved(struct volsnap_origin *o, struct bio *bio, u32 epoch)
{
	u64 c = volsnap_chunk_of(o, bio->bi_iter.bi_sector);
	u64 last = volsnap_chunk_of(o, bio_end_sector(bio) - 1);

	for (; c <= last; c++)
		if (volsnap_chunkmap_preserved(&o->map, c) < epoch)
			return false;
	return true;
}

static struct cow_pending *pending_find(struct volsnap_origin *o, u64 chunk)
{
	struct cow_pending *p;

	lockdep_assert_held(&o->cow_lock);
	hash_for_each_possible(o->pending, p, node, chunk)
		if (p->chunk == chunk)
			return p;
	return NULL;
}

static void copy_work(struct work_struct *work);

/*
 * Make @io wait for a copy of every chunk it touches that is not preserved
 * for @epoch. Process context; sleeps only to allocate (GFP_NOIO).
 */
static void cow_wait(struct volsnap_origin *o, struct volsnap_io *io, u32 epoch)
{
	struct bio *bio = &io->clone;
	u64 c = volsnap_chunk_of(o, bio->bi_iter.bi_sector);
	u64 last = volsnap_chunk_of(o, bio_end_sector(bio) - 1);
	struct cow_pending *p, *new = NULL;
	struct cow_waiter *w;
	bool queue;

	for (; c <= last; c++) {
		if (volsnap_chunkmap_preserved(&o->map, c) >= epoch)
			continue;
		/* Bound the copies in flight (a discard of a whole disk...). */
		wait_event(o->pending_wq,
			   atomic_read(&o->nr_pending) < VOLSNAP_MAX_PENDING);
		w = kmalloc(sizeof(*w), GFP_NOIO | __GFP_NOFAIL);
		w->io = io;
		queue = false;
retry:
		spin_lock(&o->cow_lock);
		p = pending_find(o, c);
		if (!p) {
			/* A copy may have finished since the lookup. */
			if (volsnap_chunkmap_preserved(&o->map, c) >= epoch) {
				spin_unlock(&o->cow_lock);
				kfree(w);
				continue;
			}
			if (!new) {
				spin_unlock(&o->cow_lock);
				new = kmalloc(sizeof(*new), GFP_NOIO | __GFP_NOFAIL);
				goto retry;
			}
			p = new;
			new = NULL;
			p->chunk = c;
			p->epoch = epoch;
			p->o = o;
			INIT_LIST_HEAD(&p->waiters);
			INIT_WORK(&p->work, copy_work);
			hash_add(o->pending, &p->node, c);
			atomic_inc(&o->nr_pending);
			queue = true;
		}
		atomic_inc(&io->pending);
		list_add_tail(&w->node, &p->waiters);
		spin_unlock(&o->cow_lock);
		if (queue)
			queue_work(o->wq, &p->work);
	}
	kfree(new);
}

/* Writes submitted from atomic context, handled by a worker. */
static void defer(struct volsnap_origin *o, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&o->defer_lock, flags);
	bio_list_add(&o->deferred, bio);
	spin_unlock_irqrestore(&o->defer_lock, flags);
	queue_work(o->wq, &o->defer_work);
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
 * @bio: the write; the caller counted it in @o->inflight, and the count
 *	passes to the write.
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
		defer(o, bio);
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
			bio_put(clone);
			goto would_block;
		}
		cow_wait(o, io, epoch);
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

/* Read or write @sectors of the chunk at @sector with @buf. */
static int buf_io(struct volsnap_origin *o, struct cow_buf *buf,
		  struct block_device *bdev, sector_t sector,
		  unsigned int sectors, blk_opf_t opf)
{
	unsigned int bytes = sectors << SECTOR_SHIFT, len, i;
	struct bio *bio;
	int ret;

	bio = bio_alloc_bioset(bdev, buf->nr_pages, opf, GFP_NOIO, &o->copy_bs);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(bio, buf->pages[i], len, 0);
	}
	ret = volsnap_io_wait(bio);
	bio_put(bio);
	return ret;
}

/* Copy chunk p->chunk to the store; return its store chunk or -errno. */
static int copy_chunk(struct cow_pending *p, u64 *store_chunk)
{
	struct volsnap_origin *o = p->o;
	sector_t start = p->chunk << o->chunk_shift;
	unsigned int sectors;
	struct cow_buf *buf;
	int ret;

	ret = volsnap_store_alloc(o->store, store_chunk);
	if (ret)
		return ret;
	sectors = min_t(sector_t, volsnap_chunk_sectors(o), o->nr_sectors - start);
	wait_event(o->buf_wq, (buf = buf_get(o)));
	ret = buf_io(o, buf, o->bdev.bdev, start, sectors, REQ_OP_READ);
	if (!ret)
		ret = buf_io(o, buf, o->store->dev.bdev,
			     volsnap_store_sector(o->store, *store_chunk),
			     sectors, REQ_OP_WRITE);
	buf_put(o, buf);
	if (!ret)
		ret = volsnap_chunkmap_add(&o->map, p->chunk, p->epoch, *store_chunk);
	if (ret)
		volsnap_store_free(o->store, *store_chunk);
	return ret;
}

static void copy_work(struct work_struct *work)
{
	struct cow_pending *p = container_of(work, struct cow_pending, work);
	struct volsnap_origin *o = p->o;
	struct cow_waiter *w, *tmp;
	u32 before = volsnap_chunkmap_preserved(&o->map, p->chunk);
	LIST_HEAD(waiters);
	u64 store_chunk;
	int ret;

	ret = copy_chunk(p, &store_chunk);
	if (ret) {
		/* The snapshots this copy would serve cannot be right. */
		volsnap_snapshot_invalidate(o, before, p->epoch, ret);
		volsnap_chunkmap_add(&o->map, p->chunk, p->epoch, VOLSNAP_NO_CHUNK);
	}

	/* Published in the map first: a write that misses p sees the copy. */
	spin_lock(&o->cow_lock);
	hash_del(&p->node);
	list_splice_init(&p->waiters, &waiters);
	spin_unlock(&o->cow_lock);

	list_for_each_entry_safe(w, tmp, &waiters, node) {
		io_release(w->io);
		kfree(w);
	}
	kfree(p);
	if (atomic_dec_return(&o->nr_pending) < VOLSNAP_MAX_PENDING)
		wake_up(&o->pending_wq);
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
	atomic_set(&o->nr_pending, 0);
	init_waitqueue_head(&o->pending_wq);
	spin_lock_init(&o->defer_lock);
	bio_list_init(&o->deferred);
	INIT_WORK(&o->defer_work, defer_work);
	spin_lock_init(&o->buf_lock);
	INIT_LIST_HEAD(&o->bufs);
	init_waitqueue_head(&o->buf_wq);

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
	list_for_each_entry_safe(buf, tmp, &o->bufs, node) {
		for (j = 0; j < buf->nr_pages; j++)
			if (buf->pages[j])
				__free_page(buf->pages[j]);
		list_del(&buf->node);
		kfree(buf);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Writable snapshot images.
 *
 * A snapshot made writable accepts writes on its image. The first write
 * to a chunk gives the snapshot a store chunk of its own: it is filled
 * with what the image read there (unless the write covers the chunk),
 * then published in the snapshot's own map, and the write goes to it. The
 * image reads an own chunk from there from then on (read_range()); the
 * origin, its chunk map and the other snapshots never see these writes.
 *
 * Writes are applied one at a time, in order, by a worker per snapshot: two
 * writes to one chunk cannot both find it without a store chunk. Each
 * counts as an image request in flight (s->inflight) from submission to
 * completion, so deleting the snapshot waits for them. The worker's bios
 * come from a bioset of its own and its chunk buffer is allocated when the
 * image becomes writable: below a filesystem, it must not wait for memory
 * that the writes it holds would free.
 *
 * The image has no volatile write cache (none is advertised): a write is
 * complete when the store has it. Flushes do not reach the driver.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "io.h"
#include "origin.h"
#include "snapshot.h"

static struct workqueue_struct *write_wq;
static struct bio_set write_bs;

static void own_read_endio(struct bio *bio)
{
	complete(bio->bi_private);
}

/* Pages in a chunk of @o. */
static unsigned int chunk_pages(const struct volsnap_origin *o)
{
	return DIV_ROUND_UP(volsnap_chunk_sectors(o) << SECTOR_SHIFT, PAGE_SIZE);
}

static void free_pages_array(struct page **pages, unsigned int nr)
{
	unsigned int i;

	if (!pages)
		return;
	for (i = 0; i < nr; i++)
		if (pages[i])
			__free_page(pages[i]);
	kfree(pages);
}

/* A bio over @pages for @sectors at @sector of @bdev. */
static struct bio *pages_bio(struct block_device *bdev, struct page **pages,
			     unsigned int sectors, sector_t sector, blk_opf_t opf)
{
	unsigned int bytes = sectors << SECTOR_SHIFT, len, i;
	struct bio *bio;

	bio = bio_alloc_bioset(bdev, DIV_ROUND_UP(bytes, PAGE_SIZE), opf, GFP_NOIO,
			       &write_bs);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(bio, pages[i], len, 0);
	}
	return bio;
}

/*
 * Give chunk @chunk of @s a store chunk of its own holding what the image
 * reads there now (@sectors: the chunk, or what the image has of it).
 */
static int own_fill(struct volsnap_snapshot *s, u64 chunk, unsigned int sectors,
		    u64 store_chunk)
{
	struct volsnap_origin *o = s->o;
	DECLARE_COMPLETION_ONSTACK(done);
	struct bio *bio;
	int ret;

	/* What the image reads there, by the epoch rule. */
	bio = pages_bio(s->disk->part0, s->wbuf, sectors, chunk << o->chunk_shift,
			REQ_OP_READ | REQ_SYNC);
	bio->bi_private = &done;
	bio->bi_end_io = own_read_endio;
	volsnap_image_read(s, bio, 0, sectors);
	bio_endio(bio);		/* the count read_range() did not take */
	wait_for_completion_io(&done);
	ret = blk_status_to_errno(bio->bi_status);
	bio_put(bio);

	if (!ret) {
		bio = pages_bio(o->store->bdev, s->wbuf, sectors,
				volsnap_store_sector(o->store, store_chunk),
				REQ_OP_WRITE | REQ_SYNC);
		ret = volsnap_io_wait(bio);
		bio_put(bio);
	}
	return ret;
}

/* Sectors of chunk @chunk that lie inside the image. */
static unsigned int chunk_in_image(struct volsnap_snapshot *s, u64 chunk)
{
	sector_t start = chunk << s->o->chunk_shift;

	return min_t(sector_t, volsnap_chunk_sectors(s->o),
		     get_capacity(s->disk) - start);
}

/*
 * Write @sectors of @bio from @offset, all in one chunk, to the snapshot's
 * own copy of that chunk, making one first.
 */
static int write_piece(struct volsnap_snapshot *s, struct bio *bio,
		       unsigned int offset, unsigned int sectors)
{
	struct volsnap_origin *o = s->o;
	sector_t sector = bio->bi_iter.bi_sector + offset;
	u64 chunk = volsnap_chunk_of(o, sector), store_chunk;
	unsigned int in_image = chunk_in_image(s, chunk);
	bool fresh = false, whole;
	struct bio *clone;
	int ret;

	if (!volsnap_image_own(s, chunk, &store_chunk)) {
		ret = volsnap_store_alloc_run(o->store, 1, &store_chunk);
		if (ret < 0)
			return ret;
		fresh = true;
		/* A write that covers the chunk needs nothing of what was there. */
		whole = sectors == in_image;
		ret = whole ? 0 : own_fill(s, chunk, in_image, store_chunk);
		if (!ret && !whole)
			ret = xa_err(xa_store(&s->own, chunk, xa_mk_value(store_chunk),
					      GFP_NOIO));
		if (ret) {
			volsnap_store_free(o->store, store_chunk);
			return ret;
		}
	}

	clone = bio_alloc_clone(o->store->bdev, bio, GFP_NOIO, &write_bs);
	bio_trim(clone, offset, sectors);
	clone->bi_iter.bi_sector = volsnap_store_sector(o->store, store_chunk) +
				   (sector & (volsnap_chunk_sectors(o) - 1));
	clone->bi_opf = REQ_OP_WRITE | REQ_SYNC |
			(bio->bi_opf & (REQ_META | REQ_PRIO));
	ret = volsnap_io_wait(clone);
	bio_put(clone);

	/* Published once the store chunk holds all of the chunk. */
	if (fresh && sectors == in_image) {
		if (!ret)
			ret = xa_err(xa_store(&s->own, chunk,
					      xa_mk_value(store_chunk), GFP_NOIO));
		if (ret)
			volsnap_store_free(o->store, store_chunk);
	}
	return ret;
}

static blk_status_t write_one(struct volsnap_snapshot *s, struct bio *bio)
{
	struct volsnap_origin *o = s->o;
	unsigned int offset, len, sectors = bio_sectors(bio);
	int ret = 0;

	if (READ_ONCE(s->error))
		return BLK_STS_IOERR;
	for (offset = 0; !ret && offset < sectors; offset += len) {
		sector_t sector = bio->bi_iter.bi_sector + offset;
		sector_t end = (volsnap_chunk_of(o, sector) + 1) << o->chunk_shift;

		len = min_t(sector_t, sectors - offset, end - sector);
		ret = write_piece(s, bio, offset, len);
	}
	/* A copy for the origin's sake may have failed meanwhile. */
	if (!ret && READ_ONCE(s->error))
		ret = -EIO;
	return errno_to_blk_status(ret);
}

static void write_work(struct work_struct *work)
{
	struct volsnap_snapshot *s = container_of(work, struct volsnap_snapshot,
						  write_work);
	struct bio *bio;

	for (;;) {
		spin_lock(&s->write_lock);
		bio = bio_list_pop(&s->writes);
		spin_unlock(&s->write_lock);
		if (!bio)
			break;
		bio->bi_status = write_one(s, bio);
		bio_endio(bio);
		/* Last: deleting the snapshot waits for this count. */
		if (atomic_dec_and_test(&s->inflight))
			wake_up_var(&s->inflight);
	}
}

/**
 * volsnap_image_write() - queue a write to a writable image
 * @s: the snapshot; its image accepts writes.
 * @bio: a write (REQ_OP_WRITE).
 *
 * Context: the image's submit_bio.
 */
void volsnap_image_write(struct volsnap_snapshot *s, struct bio *bio)
{
	atomic_inc(&s->inflight);
	spin_lock(&s->write_lock);
	bio_list_add(&s->writes, bio);
	spin_unlock(&s->write_lock);
	queue_work(write_wq, &s->write_work);
}

/**
 * volsnap_snapshot_init_own() - an empty own map and write queue
 * @s: a new snapshot.
 */
void volsnap_snapshot_init_own(struct volsnap_snapshot *s)
{
	xa_init(&s->own);
	spin_lock_init(&s->write_lock);
	bio_list_init(&s->writes);
	INIT_WORK(&s->write_work, write_work);
}

/**
 * volsnap_snapshot_make_writable() - let the image accept writes
 * @s: the snapshot.
 *
 * Context: volsnap_ctl_mutex held.
 * Return: 0; -ESTALE @s is invalid; -EBUSY a revert writes it back (the
 * revert's list of chunks must stay what the image differs in); -ENOMEM.
 */
int volsnap_snapshot_make_writable(struct volsnap_snapshot *s)
{
	unsigned int nr = chunk_pages(s->o), i;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (READ_ONCE(s->error))
		return -ESTALE;
	if (s->epoch == s->o->revert_id)
		return -EBUSY;
	if (!s->writable) {
		s->wbuf = kcalloc(nr, sizeof(*s->wbuf), GFP_KERNEL);
		for (i = 0; s->wbuf && i < nr; i++) {
			s->wbuf[i] = alloc_page(GFP_KERNEL);
			if (!s->wbuf[i])
				break;
		}
		if (!s->wbuf || i < nr) {
			free_pages_array(s->wbuf, nr);
			s->wbuf = NULL;
			return -ENOMEM;
		}
		WRITE_ONCE(s->writable, true);
		set_disk_ro(s->disk, false);
		pr_info("%pg: snapshot %u (volsnap%d) is writable\n",
			s->o->bdev.bdev, s->epoch, s->index);
	}
	return 0;
}

/**
 * volsnap_snapshot_free_own() - give the store chunks of image writes back
 * @s: a snapshot whose image is gone and whose requests are done.
 */
void volsnap_snapshot_free_own(struct volsnap_snapshot *s)
{
	unsigned long chunk;
	void *entry;

	flush_work(&s->write_work);
	xa_for_each(&s->own, chunk, entry)
		volsnap_store_free(s->o->store, xa_to_value(entry));
	xa_destroy(&s->own);
	free_pages_array(s->wbuf, chunk_pages(s->o));
	s->wbuf = NULL;
}

int volsnap_writable_init(void)
{
	int ret;

	ret = bioset_init(&write_bs, BIO_POOL_SIZE, 0, BIOSET_NEED_BVECS);
	if (ret)
		return ret;
	write_wq = alloc_workqueue("volsnap-write", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!write_wq) {
		bioset_exit(&write_bs);
		return -ENOMEM;
	}
	return 0;
}

void volsnap_writable_exit(void)
{
	destroy_workqueue(write_wq);
	bioset_exit(&write_bs);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The chunk map (see chunkmap.h).
 *
 * One copy per write however many snapshots exist: snapshot S reads chunk c
 * from the copy with the smallest tag >= S's epoch, or from the origin when
 * there is none. A copy tagged T whose predecessor is tagged P serves the
 * snapshots with epochs in (P, T]; once none of those is alive (and valid)
 * the copy is dropped and its store chunk reused.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/volsnap.h>

#include "chunkmap.h"

/**
 * struct volsnap_chunk - map entry of one origin chunk
 * @rcu: frees the entry after readers are done.
 * @preserved: newest epoch whose content of the chunk is preserved (or
 *	whose copy failed, which invalidated the snapshots it served).
 * @nr: number of @copies.
 * @copies: preserved copies in ascending tag order.
 */
struct volsnap_chunk {
	struct rcu_head rcu;
	u32 preserved;
	u32 nr;
	struct volsnap_map_copy copies[];
};

void volsnap_chunkmap_init(struct volsnap_chunkmap *map)
{
	xa_init(&map->xa);
	mutex_init(&map->lock);
}

/* Frees every entry; nothing may use the map any more. */
void volsnap_chunkmap_destroy(struct volsnap_chunkmap *map)
{
	struct volsnap_chunk *e;
	unsigned long index;

	xa_for_each(&map->xa, index, e)
		kfree(e);
	xa_destroy(&map->xa);
	mutex_destroy(&map->lock);
}

/**
 * volsnap_chunkmap_preserved() - newest epoch preserved for a chunk
 * @map: the map.
 * @chunk: origin chunk.
 *
 * Context: any; lock-free.
 * Return: the epoch, 0 if the chunk was never preserved.
 */
u32 volsnap_chunkmap_preserved(struct volsnap_chunkmap *map, u64 chunk)
{
	struct volsnap_chunk *e;
	u32 preserved = 0;

	rcu_read_lock();
	e = xa_load(&map->xa, chunk);
	if (e)
		preserved = READ_ONCE(e->preserved);
	rcu_read_unlock();
	return preserved;
}

/**
 * volsnap_chunkmap_find() - where a snapshot reads a chunk from
 * @map: the map.
 * @chunk: origin chunk.
 * @epoch: the snapshot's epoch.
 * @store_chunk: the store chunk of the copy with the smallest tag >=
 *	@epoch, or %VOLSNAP_NO_CHUNK when there is none.
 *
 * With no copy, the snapshot reads the origin if the returned epoch is
 * older than @epoch; otherwise its copy could not be made.
 *
 * Context: any; lock-free.
 * Return: the chunk's preserved epoch.
 */
u32 volsnap_chunkmap_find(struct volsnap_chunkmap *map, u64 chunk, u32 epoch,
			  u64 *store_chunk)
{
	struct volsnap_chunk *e;
	u32 preserved = 0, i;

	*store_chunk = VOLSNAP_NO_CHUNK;
	rcu_read_lock();
	e = xa_load(&map->xa, chunk);
	if (e) {
		preserved = e->preserved;
		for (i = 0; i < e->nr; i++) {
			if (e->copies[i].tag >= epoch) {
				*store_chunk = e->copies[i].store_chunk;
				break;
			}
		}
	}
	rcu_read_unlock();
	return preserved;
}

/*
 * Publish @new (NULL: erase) for @chunk; map->lock held. The caller frees
 * the old entry with kfree_rcu() once it no longer reads it.
 */
static int replace(struct volsnap_chunkmap *map, u64 chunk,
		   struct volsnap_chunk *new)
{
	void *ret;

	lockdep_assert_held(&map->lock);
	if (new)
		ret = xa_store(&map->xa, chunk, new, GFP_NOIO | __GFP_NOFAIL);
	else
		ret = xa_erase(&map->xa, chunk);
	return xa_is_err(ret) ? xa_err(ret) : 0;
}

/**
 * volsnap_chunkmap_add() - record that a chunk was preserved for an epoch
 * @map: the map.
 * @chunk: origin chunk.
 * @tag: the epoch; newer than the chunk's preserved epoch.
 * @store_chunk: the copy's store chunk, or %VOLSNAP_NO_CHUNK when the copy
 *	failed (the caller has invalidated the snapshots it would serve).
 *
 * Context: process context, may sleep (GFP_NOIO allocations, which
 * do not fail: a failure would invalidate snapshots).
 * Return: 0, or -EINVAL if @tag is not newer than the chunk's epoch.
 */
int volsnap_chunkmap_add(struct volsnap_chunkmap *map, u64 chunk, u32 tag,
			 u64 store_chunk)
{
	struct volsnap_chunk *old, *new;
	u32 nr;
	int ret;

	mutex_lock(&map->lock);
	old = xa_load(&map->xa, chunk);
	nr = old ? old->nr : 0;
	if (WARN_ON_ONCE(old && old->preserved >= tag)) {
		mutex_unlock(&map->lock);
		return -EINVAL;
	}
	/* A failure here would invalidate snapshots: small, so never fails. */
	new = kmalloc(struct_size(new, copies, nr + 1), GFP_NOIO | __GFP_NOFAIL);
	if (nr)
		memcpy(new->copies, old->copies, nr * sizeof(new->copies[0]));
	if (store_chunk != VOLSNAP_NO_CHUNK) {
		new->copies[nr].tag = tag;
		new->copies[nr].pad = 0;
		new->copies[nr].store_chunk = store_chunk;
		nr++;
	}
	new->nr = nr;
	new->preserved = tag;
	ret = replace(map, chunk, new);
	mutex_unlock(&map->lock);
	if (ret)
		kfree(new);
	else if (old)
		kfree_rcu(old, rcu);
	return ret;
}

/**
 * volsnap_chunkmap_count() - chunks a snapshot reads from the store
 * @map: the map.
 * @epoch: the snapshot's epoch.
 *
 * Context: process context; walks the whole map.
 * Return: the number of chunks with a copy tagged >= @epoch.
 */
u64 volsnap_chunkmap_count(struct volsnap_chunkmap *map, u32 epoch)
{
	XA_STATE(xas, &map->xa, 0);
	struct volsnap_chunk *e;
	u64 count = 0;

	rcu_read_lock();
	xas_for_each(&xas, e, ULONG_MAX) {
		if (xas_retry(&xas, e))
			continue;
		if (e->nr && e->copies[e->nr - 1].tag >= epoch)
			count++;
		if (need_resched()) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	return count;
}

/* Has @e a copy tagged in [@from, @to)? */
static bool copied_between(const struct volsnap_chunk *e, u32 from, u32 to)
{
	u32 i;

	for (i = 0; i < e->nr; i++)
		if (e->copies[i].tag >= from && e->copies[i].tag < to)
			return true;
	return false;
}

/**
 * volsnap_chunkmap_changed() - runs of chunks written between two epochs
 * @map: the map.
 * @from: the earlier snapshot's epoch; it must be valid and stay alive.
 * @to: the later snapshot's epoch, or U32_MAX for the live origin.
 * @start: the first chunk to look at.
 * @end: the chunk after the last one to look at.
 * @runs: out: the runs found, ascending.
 * @max: room in @runs.
 *
 * A chunk first written after snapshot @from and before snapshot @to was
 * copied with a tag in [@from, @to): the tag is the newest epoch when the
 * write came. That copy, or an older one still tagged >= @from, is kept
 * while @from is alive (it is the copy @from reads), so the map answers
 * without reading data.
 *
 * Context: process context; walks the map from @start.
 * Return: the chunk where a further call would start (@end when done);
 * the number of runs found in *@max.
 */
u64 volsnap_chunkmap_changed(struct volsnap_chunkmap *map, u32 from, u32 to,
			     u64 start, u64 end, struct volsnap_extent *runs,
			     unsigned int *max)
{
	XA_STATE(xas, &map->xa, start);
	unsigned int n = 0, room = *max;
	struct volsnap_chunk *e;
	u64 next = end;

	if (start >= end || !room) {
		*max = 0;
		return start >= end ? end : start;
	}
	rcu_read_lock();
	xas_for_each(&xas, e, end - 1) {
		if (xas_retry(&xas, e))
			continue;
		if (!copied_between(e, from, to))
			goto next;
		if (n && runs[n - 1].chunk + runs[n - 1].count == xas.xa_index) {
			runs[n - 1].count++;
			goto next;
		}
		if (n == room) {
			next = xas.xa_index;
			break;
		}
		runs[n].chunk = xas.xa_index;
		runs[n].count = 1;
		n++;
next:
		if (need_resched()) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	*max = n;
	return next;
}

/* How many epochs of the ascending array @epochs are <= @e? */
static unsigned int epochs_upto(const u32 *epochs, unsigned int nr, u32 e)
{
	unsigned int lo = 0, hi = nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (epochs[mid] <= e)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * volsnap_chunkmap_alone() - store chunks only one snapshot reads
 * @map: the map.
 * @epochs: the epochs of the valid snapshots, ascending.
 * @nr: their number.
 * @alone: incremented, per snapshot (same index as @epochs), for each
 *	copy that snapshot reads and no other of @epochs does: what deleting
 *	it would free.
 *
 * A copy tagged t, after a copy tagged p (0 for the first), serves the
 * snapshots whose epoch lies in (p, t].
 *
 * Context: process context; walks the whole map.
 */
void volsnap_chunkmap_alone(struct volsnap_chunkmap *map, const u32 *epochs,
			    unsigned int nr, u64 *alone)
{
	XA_STATE(xas, &map->xa, 0);
	struct volsnap_chunk *e;
	unsigned int i, from;
	u32 prev;

	rcu_read_lock();
	xas_for_each(&xas, e, ULONG_MAX) {
		if (xas_retry(&xas, e))
			continue;
		prev = 0;
		for (i = 0; i < e->nr; i++) {
			if (e->copies[i].store_chunk != VOLSNAP_NO_CHUNK) {
				from = epochs_upto(epochs, nr, prev);
				if (epochs_upto(epochs, nr, e->copies[i].tag) == from + 1)
					alone[from]++;
			}
			prev = e->copies[i].tag;
		}
		if (need_resched()) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
}

/* Is any epoch of the ascending array @live in (lo, hi]? */
static bool live_in(const u32 *live, unsigned int nr_live, u32 lo, u32 hi)
{
	unsigned int i;

	for (i = 0; i < nr_live; i++) {
		if (live[i] > hi)
			return false;
		if (live[i] > lo)
			return true;
	}
	return false;
}

/**
 * volsnap_chunkmap_prune() - drop the copies no live snapshot reads
 * @map: the map.
 * @live: epochs of the live, valid snapshots, ascending.
 * @nr_live: their number.
 * @release: called with each dropped copy's store chunk.
 * @data: passed to @release.
 *
 * Copies no data. An entry left with no copies is erased: every valid
 * snapshot is then newer than its preserved epoch, so forgetting it is
 * the same as never having preserved the chunk.
 *
 * Context: process context, may sleep.
 */
void volsnap_chunkmap_prune(struct volsnap_chunkmap *map, const u32 *live,
			    unsigned int nr_live,
			    void (*release)(void *data, u64 store_chunk),
			    void *data)
{
	struct volsnap_chunk *e, *new;
	unsigned long index;
	unsigned long walked = 0;
	u32 i, kept, prev;
	bool keep[64];
	bool *keepv;

	mutex_lock(&map->lock);
	xa_for_each(&map->xa, index, e) {
		keepv = e->nr <= ARRAY_SIZE(keep) ? keep :
			kmalloc_array(e->nr, sizeof(*keepv), GFP_NOIO);
		if (!keepv)
			continue;	/* keep everything; next prune retries */
		kept = 0;
		prev = 0;
		for (i = 0; i < e->nr; i++) {
			keepv[i] = live_in(live, nr_live, prev, e->copies[i].tag);
			prev = e->copies[i].tag;
			kept += keepv[i];
		}
		if (kept == e->nr)
			goto next;

		new = NULL;
		if (kept || live_in(live, nr_live, 0, e->preserved)) {
			new = kmalloc(struct_size(new, copies, kept), GFP_NOIO);
			if (!new)
				goto next;
			new->preserved = e->preserved;
			new->nr = 0;
			for (i = 0; i < e->nr; i++)
				if (keepv[i])
					new->copies[new->nr++] = e->copies[i];
		}
		/* Storing at an existing index allocates nothing: no failure. */
		if (WARN_ON_ONCE(replace(map, index, new))) {
			kfree(new);
			goto next;
		}
		for (i = 0; i < e->nr; i++)
			if (!keepv[i])
				release(data, e->copies[i].store_chunk);
		kfree_rcu(e, rcu);
next:
		if (keepv != keep)
			kfree(keepv);
		/*
		 * Let copies publish now and then: xa_for_each() finds its
		 * place again by index, whatever changed meanwhile.
		 */
		if (!(++walked % 1024)) {
			mutex_unlock(&map->lock);
			cond_resched();
			mutex_lock(&map->lock);
		}
	}
	mutex_unlock(&map->lock);
}

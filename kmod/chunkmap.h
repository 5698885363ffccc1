/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The chunk map: per origin chunk, the newest epoch whose content of the
 * chunk is preserved, and the preserved copies with their epoch tags.
 *
 * Readers (the write fast path, snapshot reads) look entries up under RCU
 * without a lock. Every change goes through this file, under the map's
 * mutex, and replaces the chunk's entry as a whole, so a reader sees an
 * old entry or a new one, never a half-updated one. That single place is
 * also where a persistent map will hook in.
 */
#ifndef VOLSNAP_CHUNKMAP_H
#define VOLSNAP_CHUNKMAP_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct volsnap_extent;

/* No store chunk: the copy could not be made (its snapshots are invalid). */
#define VOLSNAP_NO_CHUNK	U64_MAX

/**
 * struct volsnap_chunkmap - the chunk map of one origin
 * @xa: chunk number -> struct volsnap_chunk.
 * @lock: serialises changes.
 */
struct volsnap_chunkmap {
	struct xarray xa;
	struct mutex lock;	/* serialises changes to @xa */
};

/**
 * struct volsnap_map_copy - one preserved copy of a chunk
 * @tag: the epoch it was preserved for; it serves the snapshots whose
 *	epoch lies in (previous copy's tag, @tag].
 * @pad: zero.
 * @store_chunk: where in the store.
 */
struct volsnap_map_copy {
	u32 tag;
	u32 pad;
	u64 store_chunk;
};

void volsnap_chunkmap_init(struct volsnap_chunkmap *map);
void volsnap_chunkmap_destroy(struct volsnap_chunkmap *map);
u32 volsnap_chunkmap_preserved(struct volsnap_chunkmap *map, u64 chunk);
u32 volsnap_chunkmap_find(struct volsnap_chunkmap *map, u64 chunk, u32 epoch,
			  u64 *store_chunk);
int volsnap_chunkmap_add(struct volsnap_chunkmap *map, u64 chunk, u32 tag,
			 u64 store_chunk);
u64 volsnap_chunkmap_count(struct volsnap_chunkmap *map, u32 epoch);
u64 volsnap_chunkmap_changed(struct volsnap_chunkmap *map, u32 from, u32 to,
			     u64 start, u64 end, struct volsnap_extent *runs,
			     unsigned int *max);
void volsnap_chunkmap_alone(struct volsnap_chunkmap *map, const u32 *epochs,
			    unsigned int nr, u64 *alone);
void volsnap_chunkmap_prune(struct volsnap_chunkmap *map, const u32 *live,
			    unsigned int nr_live,
			    void (*release)(void *data, u64 store_chunk),
			    void *data);

#endif /* VOLSNAP_CHUNKMAP_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sector stamps for data tests.
 *
 * Every 512-byte sector written by a test carries a stamp: a magic, the
 * device-relative sector number it was written to, a generation number, the
 * run's seed, a payload derived from those, and a 64-bit checksum of the
 * rest. Reading a sector back says what it holds: the expected stamp, zeros,
 * an older or newer generation (stale), another sector's stamp (misplaced),
 * another run's stamp, a stamp with a bad checksum (torn or corrupt), or
 * something that is no stamp at all.
 *
 * Generation 0 means "zeros": never written, zeroed or discarded. Expected
 * maps hold one u32 per sector: a generation, optionally ORed with
 * STAMP_OR_ZERO when zeros are acceptable too (after a discard, whose
 * effect on the data the device may ignore).
 *
 * All I/O is O_DIRECT with page-aligned buffers, in pieces of at most
 * STAMP_IO_MAX bytes; offsets and lengths are in 512-byte sectors.
 */
#ifndef STAMP_H
#define STAMP_H

#include <stdbool.h>
#include <stddef.h>

#include "vstypes.h"

#define STAMP_SECTOR		512
#define STAMP_SHIFT		9
#define STAMP_IO_MAX		(1024 * 1024)
#define STAMP_MAGIC		0x3150414e53534f56ULL	/* "VOSSNAP1" */

/* Generation 0: the sector holds zeros. */
#define STAMP_GEN_ZERO		0u
/* Expected-map flag: zeros are acceptable as well as the generation. */
#define STAMP_OR_ZERO		0x80000000u
#define STAMP_GEN_MASK		0x7fffffffu

/* What a sector holds, as decoded by stamp_decode(). */
enum stamp_kind {
	STAMP_OK,		/* a valid stamp of this run */
	STAMP_ZERO,		/* all zeros */
	STAMP_GARBAGE,		/* no stamp: wrong magic, not zeros */
	STAMP_TORN,		/* stamp magic but a bad checksum */
	STAMP_FOREIGN,		/* a valid stamp of another run (seed) */
};

struct stamp_found {
	enum stamp_kind kind;
	u64 sector;	/* sector number in the stamp (OK, FOREIGN, TORN) */
	u32 gen;		/* generation in the stamp (OK, FOREIGN, TORN) */
	u32 seed;		/* seed in the stamp (OK, FOREIGN, TORN) */
};

/* Encode one sector's stamp into buf (512 bytes). gen 0 writes zeros. */
void stamp_sector(void *buf, u64 sector, u32 gen, u32 seed);
/* Stamp nsect consecutive sectors starting at sector into buf. */
void stamp_buf(void *buf, u64 sector, u64 nsect, u32 gen,
	       u32 seed);
/* Decode a sector read back; seed is this run's seed. */
void stamp_decode(const void *buf, u32 seed, struct stamp_found *f);
/*
 * Does the sector in buf hold what expect (a map entry) asks for, at device
 * sector `sector`? Returns true when it does.
 */
bool stamp_match(const void *buf, u64 sector, u32 expect,
		 u32 seed);
/* Human-readable description of what buf holds, e.g. "gen 3 of sector 17". */
void stamp_describe(const void *buf, u32 seed, char *out, size_t len);

/* A page-aligned buffer of len bytes (free() it), or NULL. */
void *stamp_alloc(size_t len);

/*
 * Write generation gen to nsect sectors at sector on fd (opened O_DIRECT).
 * Returns 0 or -errno (-EIO on a short write).
 */
int stamp_write(int fd, u64 sector, u64 nsect, u32 gen,
		u32 seed);

/* Set map[first..first+n) (indices relative to the map's base) to v. */
void stamp_map_set(u32 *map, u64 first, u64 n, u32 v);

/* Where verification reports go; prefixes each line with "# ". */
void stamp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Verify nsect sectors at sector on fd against an expected map:
 * map[i] is the expectation for sector (sector + i); with map NULL every
 * sector must be generation gen. Reports the first few mismatches (what was
 * expected, what was found: zeros, a stale generation, a misplaced sector,
 * a torn stamp) and a summary, prefixed with label.
 * Returns the number of mismatching sectors, or -errno when a read fails.
 */
long stamp_verify(int fd, u64 sector, u64 nsect,
		  const u32 *map, u32 gen, u32 seed,
		  const char *label);

/*
 * Read nsect sectors at sector and store the generation each holds in
 * gens[i]: the stamp's generation when it is a valid stamp of this run for
 * that very sector, 0 for zeros, STAMP_SCAN_BAD for anything else.
 * Returns 0 or -errno.
 */
#define STAMP_SCAN_BAD		0xffffffffu
int stamp_scan(int fd, u64 sector, u64 nsect, u32 *gens,
	       u32 seed);

/* A seed for this run: $VS_SEED if set, else from the clock and pid. */
u32 stamp_seed(void);

/* A small, fast PRNG (xorshift64*) for reproducible test workloads. */
struct stamp_rng {
	u64 s;
};

void stamp_rng_init(struct stamp_rng *r, u64 seed);
u64 stamp_rng_next(struct stamp_rng *r);
/* Uniform in [lo, hi] (inclusive). */
u64 stamp_rng_range(struct stamp_rng *r, u64 lo, u64 hi);

#endif

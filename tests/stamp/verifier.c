// SPDX-License-Identifier: GPL-2.0
/*
 * The data tests' verifier catches what it must: on a scratch disk (no
 * volsnap involved), a clean stamped range verifies, and one sector made
 * stale, misplaced, torn, zeroed, foreign or garbage is caught, counted
 * once and named by stamp_scan()/stamp_decode() for what it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"

#define BASE		(64ULL << 11)	/* sector of byte 64 MiB */
#define NSECT		(4ULL << 11)	/* 4 MiB */
#define VICTIM		(BASE + 1234)
#define GEN		5

FIXTURE(scratch) {
	int fd;
	u32 seed;
	void *sec;
	u32 *gens;
};

/* Names for helpers' parameters (checkpatch misreads the macros). */
typedef FIXTURE_DATA(scratch) scratch_t;

FIXTURE_SETUP(scratch)
{
	self->seed = stamp_seed();
	self->sec = stamp_alloc(STAMP_SECTOR);
	self->gens = calloc(NSECT, sizeof(*self->gens));
	ASSERT_NE(NULL, self->sec);
	ASSERT_NE(NULL, self->gens);
	self->fd = open(vs_disk_scratch1(), O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, stamp_write(self->fd, BASE, NSECT, GEN, self->seed));
}

FIXTURE_TEARDOWN(scratch)
{
	if (self->fd >= 0)
		close(self->fd);
	free(self->sec);
	free(self->gens);
}

/* Overwrite the victim sector with the 512 bytes in self->sec. */
static int put_victim(scratch_t *self)
{
	return pwrite(self->fd, self->sec, STAMP_SECTOR,
		      VICTIM << STAMP_SHIFT) == STAMP_SECTOR ? 0 : -1;
}

/* Verify the whole range; only the victim may be, and must be, caught. */
static void expect_victim_caught(struct __test_metadata *_metadata,
				 scratch_t *self)
{
	u64 i;

	EXPECT_EQ(1, stamp_verify(self->fd, BASE, NSECT, NULL, GEN, self->seed,
				  "verifier self-test (one bad sector expected)"));
	ASSERT_EQ(0, stamp_scan(self->fd, BASE, NSECT, self->gens, self->seed));
	for (i = 0; i < NSECT; i++)
		if (BASE + i != VICTIM)
			ASSERT_EQ(GEN, self->gens[i]);
}

static enum stamp_kind victim_kind(scratch_t *self,
				   struct stamp_found *f)
{
	if (pread(self->fd, self->sec, STAMP_SECTOR, VICTIM << STAMP_SHIFT) !=
	    STAMP_SECTOR)
		return -1;
	stamp_decode(self->sec, self->seed, f);
	return f->kind;
}

TEST_F(scratch, clean_range_verifies)
{
	u32 *map = calloc(NSECT, sizeof(*map));

	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, stamp_verify(self->fd, BASE, NSECT, NULL, GEN, self->seed,
				  "clean"));
	stamp_map_set(map, 0, NSECT, GEN);
	EXPECT_EQ(0, stamp_verify(self->fd, BASE, NSECT, map, 0, self->seed,
				  "clean, by map"));
	/* Another generation is caught on every sector. */
	EXPECT_EQ(16, stamp_verify(self->fd, BASE, 16, NULL, GEN + 1,
				   self->seed, "wrong gen expected (16 bad)"));
	free(map);
}

TEST_F(scratch, stale_generation_caught)
{
	struct stamp_found f;

	stamp_sector(self->sec, VICTIM, GEN - 1, self->seed);
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(GEN - 1, self->gens[VICTIM - BASE]);
	EXPECT_EQ(STAMP_OK, victim_kind(self, &f));
	EXPECT_EQ(GEN - 1, f.gen);
}

TEST_F(scratch, misplaced_sector_caught)
{
	struct stamp_found f;

	stamp_sector(self->sec, VICTIM + 8, GEN, self->seed);
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(STAMP_SCAN_BAD, self->gens[VICTIM - BASE]);
	EXPECT_EQ(STAMP_OK, victim_kind(self, &f));
	EXPECT_EQ(VICTIM + 8, f.sector);
}

TEST_F(scratch, torn_sector_caught)
{
	struct stamp_found f;

	stamp_sector(self->sec, VICTIM, GEN, self->seed);
	((unsigned char *)self->sec)[300] ^= 0x10;
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(STAMP_SCAN_BAD, self->gens[VICTIM - BASE]);
	EXPECT_EQ(STAMP_TORN, victim_kind(self, &f));
}

TEST_F(scratch, zeroed_sector_caught)
{
	struct stamp_found f;
	u32 *map = calloc(NSECT, sizeof(*map));

	ASSERT_NE(NULL, map);
	memset(self->sec, 0, STAMP_SECTOR);
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(0, self->gens[VICTIM - BASE]);
	EXPECT_EQ(STAMP_ZERO, victim_kind(self, &f));
	/* "gen or zeros" accepts both; "zeros" accepts only the zeros. */
	EXPECT_EQ(0, stamp_verify(self->fd, BASE, NSECT, NULL,
				  GEN | STAMP_OR_ZERO, self->seed, "or-zero"));
	stamp_map_set(map, 0, NSECT, GEN);
	map[VICTIM - BASE] = STAMP_GEN_ZERO;
	EXPECT_EQ(0, stamp_verify(self->fd, BASE, NSECT, map, 0, self->seed,
				  "zero in map"));
	map[VICTIM - BASE - 1] = STAMP_GEN_ZERO;
	EXPECT_EQ(1, stamp_verify(self->fd, BASE, NSECT, map, 0, self->seed,
				  "zero expected on a stamped sector"));
	free(map);
}

TEST_F(scratch, other_runs_stamp_caught)
{
	struct stamp_found f;

	stamp_sector(self->sec, VICTIM, GEN, self->seed ^ 0x100);
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(STAMP_FOREIGN, victim_kind(self, &f));
}

TEST_F(scratch, garbage_caught)
{
	struct stamp_found f;

	memset(self->sec, 0xa5, STAMP_SECTOR);
	ASSERT_EQ(0, put_victim(self));
	expect_victim_caught(_metadata, self);
	EXPECT_EQ(STAMP_GARBAGE, victim_kind(self, &f));
}

TEST_F(scratch, read_error_reported)
{
	u64 end = vs_dev_sectors(vs_disk_scratch1());

	ASSERT_LT(0, end);
	/* Reading past the end of the device is a short read: -EIO. */
	EXPECT_EQ(-EIO, stamp_verify(self->fd, end - 8, 16, NULL, GEN,
				     self->seed, "past the end (error expected)"));
}

TEST_HARNESS_MAIN

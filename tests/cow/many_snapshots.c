// SPDX-License-Identifier: GPL-2.0
/*
 * Many snapshots of one origin at once: ten snapshots taken between rounds
 * of mixed requests each read exactly their own instant; deleting the
 * middle, the oldest and the newest, then the rest in a random order,
 * leaves every other snapshot exact; and the store holds one copy per
 * changed chunk per snapshot interval however many snapshots share it
 * (design.md, section 3: "one copy per write, however many snapshots").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"
#include "vstest.h"
#include "workload.h"

/* Data tests run long on the debug kernel: the runner's time limit rules. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 1800

/*
 * The region (in sectors) and the requests per round: 32 MiB and 40, or
 * 8 MiB and 20 under the debug profile (KASAN, lockdep), with the same
 * ten snapshots and chunk sizes.
 */
#define REGION		(vs_scaled(32, 8) * 2048ULL)
#define NSNAP		10
#define ROUND_OPS	((unsigned int)vs_scaled(40, 20))
/* Discards are left out: the VM's disks ignore them (see point_in_time). */
#define KINDS		(WL_ALL_WRITES | WL_ALL_ZEROING)

FIXTURE(snaps) {
	int ctl;
	bool attached;
	const char *origin;
	struct wl w;
	unsigned int nsnap;
	struct volsnap_create snap[NSNAP + 1];
	u32 *inst[NSNAP + 1];	/* expected image of each snapshot */
	bool live[NSNAP + 1];
	u64 touched;		/* sum over rounds of chunks touched */
};

FIXTURE_VARIANT(snaps) {
	unsigned int chunk_size;
};

FIXTURE_VARIANT_ADD(snaps, chunk_4k) { .chunk_size = 4096 };
FIXTURE_VARIANT_ADD(snaps, chunk_64k) { .chunk_size = 65536 };
FIXTURE_VARIANT_ADD(snaps, chunk_1m) { .chunk_size = 1048576 };

/* Names for helpers' parameters (checkpatch misreads the macros). */
typedef FIXTURE_DATA(snaps) snaps_t;
typedef FIXTURE_VARIANT(snaps) snaps_variant_t;

FIXTURE_SETUP(snaps)
{
	u32 seed = stamp_seed();
	int n;

	self->w.fd = -1;
	self->w.bfd = -1;
	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	n = vs_detach_all(self->ctl);
	if (n > 0)
		TH_LOG("detached %d origin(s) an earlier test left attached", n);
	self->origin = vs_disk_origin();
	ASSERT_EQ(0, vs_wipe_store(vs_disk_store()));
	TH_LOG("stamp seed %u (rerun with VS_SEED=%u)", seed, seed);
	ASSERT_EQ(0, wl_open(&self->w, self->origin, seed, variant->chunk_size,
			     seed));
}

FIXTURE_TEARDOWN(snaps)
{
	unsigned int i, count = 0;

	if (self->attached) {
		EXPECT_EQ(0, vs_detach(self->ctl, self->origin, true));
		EXPECT_EQ(-ENODEV, vs_status(self->ctl, self->origin, NULL,
					     NULL, &count));
	}
	for (i = 0; i <= NSNAP; i++)
		free(self->inst[i]);
	wl_close(&self->w);
	close(self->ctl);
}

/* Take snapshot i and remember what the region holds at its instant. */
static void take(struct __test_metadata *_metadata, snaps_t *self,
		 unsigned int i)
{
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->snap[i]));
	self->inst[i] = malloc(REGION * sizeof(u32));
	ASSERT_NE(NULL, self->inst[i]);
	memcpy(self->inst[i], self->w.map, REGION * sizeof(u32));
	self->live[i] = true;
	if (i)
		EXPECT_LT(self->snap[i - 1].id, self->snap[i].id);
}

/* One round of mixed requests; counts the chunks it touched. */
static void round_of_writes(struct __test_metadata *_metadata,
			    snaps_t *self)
{
	int ret;

	wl_untouch(&self->w);
	ret = wl_random(&self->w, KINDS, 0, REGION, ROUND_OPS);
	if (ret)
		TH_LOG("%s failed: %s", self->w.last, strerror(-ret));
	ASSERT_EQ(0, ret);
	self->touched += wl_untouch(&self->w);
}

/* Stamp, attach, then n times: snapshot, round of writes. */
static void build(struct __test_metadata *_metadata, snaps_t *self,
		  const snaps_variant_t *variant, unsigned int n)
{
	unsigned int i;

	ASSERT_EQ(0, wl_fill(&self->w, 0, REGION, 1));
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, vs_disk_store(),
			       variant->chunk_size));
	self->attached = true;
	for (i = 0; i < n; i++) {
		take(_metadata, self, i);
		round_of_writes(_metadata, self);
	}
	self->nsnap = n;
}

/* Every live snapshot reads its instant; the origin what was written. */
static void verify_all(struct __test_metadata *_metadata,
		       snaps_t *self, const char *when)
{
	char label[128];
	unsigned int i;
	int fd;

	for (i = 0; i <= NSNAP; i++) {
		if (!self->live[i])
			continue;
		fd = vs_image_open(self->snap[i].image_index, O_RDONLY | O_DIRECT);
		ASSERT_LE(0, fd);
		snprintf(label, sizeof(label), "snapshot %u (id %u) %s", i + 1,
			 self->snap[i].id, when);
		EXPECT_EQ(0, stamp_verify(fd, 0, REGION, self->inst[i], 0,
					  self->w.seed, label));
		close(fd);
	}
	snprintf(label, sizeof(label), "origin %s", when);
	EXPECT_EQ(0, stamp_verify(self->w.fd, 0, REGION, self->w.map, 0,
				  self->w.seed, label));
}

static void delete(struct __test_metadata *_metadata,
		   snaps_t *self, unsigned int i)
{
	char path[32];

	ASSERT_EQ(0, vs_delete(self->ctl, self->origin, self->snap[i].id,
			       false));
	self->live[i] = false;
	vs_image_path(self->snap[i].image_index, path, sizeof(path));
	EXPECT_NE(0, access(path, F_OK));
}

/* The status lists exactly the live snapshots, in increasing id order. */
static void expect_listed(struct __test_metadata *_metadata,
			  snaps_t *self)
{
	struct volsnap_snapshot_info info[NSNAP + 8];
	unsigned int i, j = 0, count = NSNAP + 8;

	ASSERT_EQ(0, vs_status(self->ctl, self->origin, NULL, info, &count));
	for (i = 0; i <= NSNAP; i++) {
		if (!self->live[i])
			continue;
		ASSERT_LT(j, count);
		EXPECT_EQ(self->snap[i].id, info[j].id);
		EXPECT_EQ(self->snap[i].image_index, info[j].image_index);
		EXPECT_EQ(0, info[j].state & VOLSNAP_SNAP_INVALID);
		j++;
	}
	EXPECT_EQ(j, count);
}

/*
 * Ten snapshots read their instants, the store holds one copy per changed
 * chunk per interval, and deleting two copies nothing and keeps the rest.
 */
TEST_F(snaps, ten_snapshots_one_copy_per_write)
{
	struct volsnap_origin_info info;
	unsigned int count = 0;
	u64 used;

	build(_metadata, self, variant, NSNAP);
	verify_all(_metadata, self, "after 10 rounds");
	expect_listed(_metadata, self);
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_EQ(NSNAP, count);
	EXPECT_EQ(NSNAP, info.nr_snapshots);
	EXPECT_EQ(variant->chunk_size, info.chunk_size);
	TH_LOG("store: %llu chunks used of %llu; rounds touched %llu chunks",
	       (unsigned long long)info.store_used,
	       (unsigned long long)info.store_chunks,
	       (unsigned long long)self->touched);
	/* Something was preserved, and at most once per round per chunk:
	 * a copy per snapshot would need up to ten times that.
	 */
	EXPECT_LT(0, info.store_used);
	EXPECT_GE(self->touched, info.store_used);
	used = info.store_used;
	/* Deleting copies no data: the store never grows on a delete. */
	delete(_metadata, self, 4);
	delete(_metadata, self, 0);
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_GE(used, info.store_used);
	verify_all(_metadata, self, "after two deletes");
}

/*
 * Deletes in every position: the middle, the oldest and the newest first,
 * then the rest in a random order, with rounds of writes and a new
 * snapshot in between; after each delete every other snapshot is exact.
 */
TEST_F(snaps, deletes_keep_the_rest)
{
	static const unsigned int first[] = { 4, 0, NSNAP - 1 };
	static const char *const what[] = { "middle", "oldest", "newest" };
	unsigned int order[NSNAP + 1], n = 0, i, j, t;
	struct stamp_rng rng;
	char when[96];

	build(_metadata, self, variant, NSNAP);
	for (i = 0; i < ARRAY_SIZE(first); i++) {
		delete(_metadata, self, first[i]);
		snprintf(when, sizeof(when), "after deleting the %s", what[i]);
		verify_all(_metadata, self, when);
	}
	expect_listed(_metadata, self);
	/* Writes after the deletes still copy for the survivors. */
	round_of_writes(_metadata, self);
	verify_all(_metadata, self, "after deletes and more writes");
	/* A new snapshot after the deletes is exact too. */
	take(_metadata, self, NSNAP);
	round_of_writes(_metadata, self);
	verify_all(_metadata, self, "after a new snapshot and more writes");
	expect_listed(_metadata, self);

	/* The rest, the new one among them, in a random order. */
	for (i = 0; i <= NSNAP; i++)
		if (self->live[i])
			order[n++] = i;
	stamp_rng_init(&rng, self->w.seed);
	for (i = n - 1; i > 0; i--) {
		j = stamp_rng_range(&rng, 0, i);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		delete(_metadata, self, order[i]);
		snprintf(when, sizeof(when), "after deleting snapshot %u (%u of %u left)",
			 order[i] + 1, i + 1, n);
		verify_all(_metadata, self, when);
		if (i % 3 == 2)
			round_of_writes(_metadata, self);
	}
	expect_listed(_metadata, self);
}

TEST_HARNESS_MAIN

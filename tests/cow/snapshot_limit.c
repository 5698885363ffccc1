// SPDX-License-Identifier: GPL-2.0
/*
 * The per-origin snapshot limit (module parameter max_snapshots, 64 by
 * default, like VSS): 64 snapshots are accepted and each reads its own
 * instant, the 65th is refused with EMLINK, deleting one frees a slot, and
 * a forced detach removes every image device. Also: attach with chunk size
 * 0 uses the 64 KiB default.
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

#define LIMIT		64
#define REGION		(8 * 2048ULL)	/* 8 MiB in sectors */

FIXTURE(limit) {
	int ctl;
	bool attached;
	const char *origin;
	struct wl w;
	struct volsnap_create snap[LIMIT + 2];
	u32 *inst[LIMIT];
};

/* Names for helpers' parameters (checkpatch misreads the macros). */
typedef FIXTURE_DATA(limit) limit_t;

FIXTURE_SETUP(limit)
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
	ASSERT_EQ(0, wl_open(&self->w, self->origin, seed, 65536, seed));
	ASSERT_EQ(0, wl_fill(&self->w, 0, REGION, 1));
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, vs_disk_store(), 0));
	self->attached = true;
}

FIXTURE_TEARDOWN(limit)
{
	unsigned int i, count = 0;

	if (self->attached) {
		EXPECT_EQ(0, vs_detach(self->ctl, self->origin, true));
		EXPECT_EQ(-ENODEV, vs_status(self->ctl, self->origin, NULL,
					     NULL, &count));
	}
	for (i = 0; i < LIMIT; i++)
		free(self->inst[i]);
	wl_close(&self->w);
	close(self->ctl);
}

/* 64 snapshots, each after a few writes, each instant remembered. */
static void fill_to_limit(struct __test_metadata *_metadata,
			  limit_t *self)
{
	unsigned int i;

	for (i = 0; i < LIMIT; i++) {
		ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0,
				       &self->snap[i]));
		self->inst[i] = malloc(REGION * sizeof(u32));
		ASSERT_NE(NULL, self->inst[i]);
		memcpy(self->inst[i], self->w.map, REGION * sizeof(u32));
		ASSERT_EQ(0, wl_random(&self->w, WL_ALL_WRITES, 0, REGION, 4));
	}
}

TEST_F(limit, max_snapshots_parameter_is_64)
{
	EXPECT_EQ(LIMIT, vs_param_get("max_snapshots"));
}

TEST_F(limit, default_chunk_size_is_64k)
{
	struct volsnap_origin_info info;
	unsigned int count = 0;

	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_EQ(VOLSNAP_CHUNK_DEFAULT, info.chunk_size);
	EXPECT_EQ(0, count);
}

/*
 * One run to the limit: 64 snapshots each read their instant, the 65th is
 * refused, a delete frees exactly one slot, and a forced detach (a plain
 * one is refused while snapshots exist) removes every image device.
 */
TEST_F(limit, sixty_four_accepted_sixty_fifth_emlink_delete_frees_a_slot)
{
	struct volsnap_create extra;
	struct volsnap_origin_info info;
	unsigned int i, count = 0;
	char label[64], path[32];
	int fd;

	fill_to_limit(_metadata, self);
	EXPECT_EQ(-EMLINK, vs_create(self->ctl, self->origin, 0, &extra));
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_EQ(LIMIT, count);
	for (i = 0; i < LIMIT; i++) {
		fd = vs_image_open(self->snap[i].image_index, O_RDONLY | O_DIRECT);
		ASSERT_LE(0, fd);
		snprintf(label, sizeof(label), "snapshot %u of 64", i + 1);
		EXPECT_EQ(0, stamp_verify(fd, 0, REGION, self->inst[i], 0,
					  self->w.seed, label));
		close(fd);
	}

	ASSERT_EQ(0, vs_delete(self->ctl, self->origin, self->snap[9].id,
			       false));
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->snap[LIMIT]));
	EXPECT_LT(self->snap[LIMIT - 1].id, self->snap[LIMIT].id);
	EXPECT_EQ(-EMLINK, vs_create(self->ctl, self->origin, 0, &extra));

	EXPECT_EQ(-EBUSY, vs_detach(self->ctl, self->origin, false));
	ASSERT_EQ(0, vs_detach(self->ctl, self->origin, true));
	self->attached = false;
	for (i = 0; i <= LIMIT; i++) {
		vs_image_path(self->snap[i].image_index, path, sizeof(path));
		EXPECT_NE(0, access(path, F_OK));
	}
}

TEST_HARNESS_MAIN

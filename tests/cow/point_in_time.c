// SPDX-License-Identifier: GPL-2.0
/*
 * Point-in-time: a snapshot's image reads exactly what the origin held at
 * the snapshot's instant, whatever kind of request changes the origin
 * afterwards, and the origin holds exactly what was written (design.md,
 * section 3). Each test stamps a region of the origin with generation 1,
 * attaches, takes one snapshot, runs one kind of request (or all of them
 * mixed) with newer generations, then verifies every sector of the image
 * against generation 1 and every sector of the origin against the map of
 * what was written. Over chunk sizes 4 KiB, 64 KiB and 1 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"
#include "vstest.h"
#include "workload.h"

/* Data tests run long on the debug kernel: the runner's time limit rules. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 1800

#define MIB_SECT	2048ULL
#define TAIL_SECT	(4 * MIB_SECT)	/* the device's last 4 MiB */

/*
 * A test asks for a region of 64 MiB (128 for the mixed one) and stamps
 * half of it: 32 chunks of the largest size are as many as any test needs.
 * The debug profile (KASAN, lockdep) stamps an eighth and runs a quarter
 * of the requests: the same kinds of request, chunk sizes and device
 * edges, less data to verify.
 */
static unsigned int region_mib(unsigned int mib)
{
	return vs_scaled(mib / 2, mib / 8);
}

static unsigned int ops(unsigned int count)
{
	return vs_scaled(count, count / 4);
}

FIXTURE(pit) {
	int ctl;
	int img;
	bool attached;
	const char *origin;
	const char *store;
	char nullb[32];
	struct wl w;
	struct volsnap_create snap;
	u64 n;		/* the region is [0, n) */
	bool tail;		/* and the device's last 4 MiB */
};

FIXTURE_VARIANT(pit) {
	unsigned int chunk_size;
};

FIXTURE_VARIANT_ADD(pit, chunk_4k) { .chunk_size = 4096 };
FIXTURE_VARIANT_ADD(pit, chunk_64k) { .chunk_size = 65536 };
FIXTURE_VARIANT_ADD(pit, chunk_1m) { .chunk_size = 1048576 };

/* Names for helpers' parameters (checkpatch misreads the macros). */
typedef FIXTURE_DATA(pit) pit_t;
typedef FIXTURE_VARIANT(pit) pit_variant_t;

FIXTURE_SETUP(pit)
{
	u32 seed = stamp_seed();
	int n;

	self->img = -1;
	self->w.fd = -1;
	self->w.bfd = -1;
	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	n = vs_detach_all(self->ctl);
	if (n > 0)
		TH_LOG("detached %d origin(s) an earlier test left attached", n);
	self->origin = vs_disk_origin();
	self->store = vs_disk_store();
	ASSERT_EQ(0, vs_wipe_store(self->store));
	TH_LOG("stamp seed %u (rerun with VS_SEED=%u)", seed, seed);
	ASSERT_EQ(0, wl_open(&self->w, self->origin, seed, variant->chunk_size,
			     seed));
}

FIXTURE_TEARDOWN(pit)
{
	unsigned int count = 0;

	if (self->img >= 0)
		close(self->img);
	if (self->attached) {
		EXPECT_EQ(0, vs_detach(self->ctl, self->origin, true));
		EXPECT_EQ(-ENODEV, vs_status(self->ctl, self->origin, NULL,
					     NULL, &count));
	}
	wl_close(&self->w);
	if (self->nullb[0])
		vs_nullb_destroy("vs-pit");
	close(self->ctl);
}

/*
 * Stamp [0, mib) (and the last 4 MiB with tail) with generation 1, attach
 * with the variant's chunk size, take a snapshot and open its image.
 */
static void start(struct __test_metadata *_metadata, pit_t *self,
		  const pit_variant_t *variant, unsigned int mib,
		  bool tail)
{
	struct wl *w = &self->w;

	self->n = region_mib(mib) * MIB_SECT;
	self->tail = tail;
	ASSERT_EQ(0, wl_fill(w, 0, self->n, 1));
	if (tail)
		ASSERT_EQ(0, wl_fill(w, w->dev_sectors - TAIL_SECT, TAIL_SECT, 1));
	ASSERT_EQ(0, vs_attach(self->ctl, w->path, self->store,
			       variant->chunk_size));
	self->attached = true;
	ASSERT_EQ(0, vs_create(self->ctl, w->path, 0, &self->snap));
	self->img = vs_image_open(self->snap.image_index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, self->img);
}

/* Image: generation 1 everywhere stamped. Origin: what was written. */
static void check(struct __test_metadata *_metadata, pit_t *self,
		  const char *what)
{
	struct wl *w = &self->w;
	u64 t = w->dev_sectors - TAIL_SECT;
	char label[128];

	wl_report(w);
	snprintf(label, sizeof(label), "image after %s", what);
	EXPECT_EQ(0, stamp_verify(self->img, 0, self->n, NULL, 1, w->seed,
				  label));
	snprintf(label, sizeof(label), "origin after %s", what);
	EXPECT_EQ(0, stamp_verify(w->fd, 0, self->n, w->map, 0, w->seed,
				  label));
	if (!self->tail)
		return;
	snprintf(label, sizeof(label), "image tail after %s", what);
	EXPECT_EQ(0, stamp_verify(self->img, t, TAIL_SECT, NULL, 1, w->seed,
				  label));
	snprintf(label, sizeof(label), "origin tail after %s", what);
	EXPECT_EQ(0, stamp_verify(w->fd, t, TAIL_SECT, w->map + t, 0, w->seed,
				  label));
}

/* Run count requests of the given kinds over the region, then check. */
static void run_kinds(struct __test_metadata *_metadata,
		      pit_t *self,
		      const pit_variant_t *variant, unsigned int kinds,
		      unsigned int count, const char *what)
{
	int ret;

	start(_metadata, self, variant, 64, false);
	ret = wl_random(&self->w, kinds, 0, self->n, count);
	if (ret)
		TH_LOG("%s failed: %s", self->w.last, strerror(-ret));
	ASSERT_EQ(0, ret);
	check(_metadata, self, what);
}

TEST_F(pit, fresh_image_equals_origin)
{
	u64 isize = 0, osize = 0;
	size_t len = 1 << 20;
	char *a = stamp_alloc(len), *b = stamp_alloc(len);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	start(_metadata, self, variant, 64, true);
	ASSERT_EQ(0, ioctl(self->img, BLKGETSIZE64, &isize));
	ASSERT_EQ(0, ioctl(self->w.fd, BLKGETSIZE64, &osize));
	EXPECT_EQ(osize, isize);
	check(_metadata, self, "no writes");
	/* Outside the stamped regions too: byte for byte, 1 MiB at 512 MiB. */
	ASSERT_EQ((ssize_t)len, pread(self->img, a, len, 512LL << 20));
	ASSERT_EQ((ssize_t)len, pread(self->w.fd, b, len, 512LL << 20));
	EXPECT_EQ(0, memcmp(a, b, len));
	free(a);
	free(b);
}

TEST_F(pit, aligned_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_ALIGNED), ops(300),
		  "4K-aligned writes");
	EXPECT_EQ(ops(300), self->w.done[WL_ALIGNED]);
}

TEST_F(pit, unaligned_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_UNALIGNED), ops(300),
		  "512-aligned, not 4K-aligned writes");
	EXPECT_EQ(ops(300), self->w.done[WL_UNALIGNED]);
}

TEST_F(pit, subchunk_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_SUBCHUNK), ops(300),
		  "sub-chunk writes");
	EXPECT_EQ(ops(300), self->w.done[WL_SUBCHUNK]);
}

TEST_F(pit, chunk_spanning_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_SPANNING), ops(300),
		  "chunk-spanning writes");
	EXPECT_EQ(ops(300), self->w.done[WL_SPANNING]);
}

TEST_F(pit, large_multichunk_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_LARGE), ops(40),
		  "large multi-chunk writes");
	EXPECT_EQ(ops(40), self->w.done[WL_LARGE]);
}

TEST_F(pit, buffered_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_BUFFERED), ops(200),
		  "buffered writes + fdatasync");
	EXPECT_EQ(ops(200), self->w.done[WL_BUFFERED]);
}

TEST_F(pit, fua_writes_keep_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_FUA), ops(200),
		  "RWF_DSYNC (FUA) writes");
	EXPECT_EQ(ops(200), self->w.done[WL_FUA]);
}

TEST_F(pit, write_zeroes_keep_image)
{
	run_kinds(_metadata, self, variant,
		  WL_BIT(WL_ZEROOUT) | WL_BIT(WL_FALLOC_ZERO), ops(200),
		  "BLKZEROOUT and fallocate zero-range");
	/* Both must have run, or the test proved nothing about them. */
	EXPECT_LT(0, self->w.done[WL_ZEROOUT]);
	EXPECT_LT(0, self->w.done[WL_FALLOC_ZERO]);
}

TEST_F(pit, punch_hole_keeps_image)
{
	run_kinds(_metadata, self, variant, WL_BIT(WL_PUNCH), ops(100),
		  "fallocate punch-hole");
	if (!self->w.done[WL_PUNCH])
		SKIP(return, "the origin has no write-zeroes with unmap");
}

TEST_F(pit, rewrites_of_copied_chunks_keep_image)
{
	u64 cs = self->w.chunk_sectors, c, i;

	start(_metadata, self, variant, 64, false);
	/* 8 chunks spread over the region, each written 12 times, whole
	 * and in parts: only the first write may copy.
	 */
	for (i = 0; i < 12; i++) {
		for (c = 1; c < self->n / cs; c += self->n / cs / 8) {
			u64 off = i % 3 ? (i * 7) % cs : 0;
			u64 len = i % 3 ? cs - off : cs;

			ASSERT_EQ(0, wl_at(&self->w, WL_ALIGNED, c * cs + off,
					   len));
		}
	}
	check(_metadata, self, "12 rewrites of 8 chunks");
}

TEST_F(pit, mixed_requests_and_device_edges_keep_image)
{
	struct wl *w = &self->w;
	u64 t = w->dev_sectors - TAIL_SECT;
	int ret;

	start(_metadata, self, variant, 128, true);
	ret = wl_random(w, WL_ALL, 0, self->n, ops(400));
	if (!ret)
		ret = wl_random(w, WL_ALL, t, TAIL_SECT, ops(60));
	/* The device's first and last sectors and its last chunk. */
	if (!ret)
		ret = wl_at(w, WL_UNALIGNED, 0, 1);
	if (!ret)
		ret = wl_at(w, WL_UNALIGNED, w->dev_sectors - 1, 1);
	if (!ret)
		ret = wl_at(w, WL_ALIGNED, w->dev_sectors - w->chunk_sectors,
			    w->chunk_sectors);
	if (ret)
		TH_LOG("%s failed: %s", w->last, strerror(-ret));
	ASSERT_EQ(0, ret);
	check(_metadata, self, "mixed requests");
}

TEST_F(pit, nowait_write_needing_copy_gets_eagain)
{
	struct wl *w = &self->w;
	u64 at = 16 * w->chunk_sectors;
	void *buf = stamp_alloc(4096);
	struct iovec iov = { .iov_base = buf, .iov_len = 4096 };
	ssize_t r;

	ASSERT_NE(NULL, buf);
	start(_metadata, self, variant, 64, false);
	stamp_buf(buf, at, 8, ++w->gen, w->seed);
	r = pwritev2(w->fd, &iov, 1, (off_t)(at << STAMP_SHIFT), RWF_NOWAIT);
	if (r < 0 && errno == EOPNOTSUPP)
		SKIP(goto out, "the origin does not take RWF_NOWAIT");
	/* REQ_NOWAIT must not sleep for a copy: -EAGAIN, origin untouched. */
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EAGAIN, errno);
	if (r == 4096)
		stamp_map_set(w->map, at, 8, w->gen);
	check(_metadata, self, "a RWF_NOWAIT write to an uncopied chunk");
out:
	free(buf);
}

TEST_F(pit, nowait_write_to_copied_chunk_succeeds)
{
	struct wl *w = &self->w;
	u64 at = 16 * w->chunk_sectors;
	void *buf = stamp_alloc(4096);
	struct iovec iov = { .iov_base = buf, .iov_len = 4096 };
	ssize_t r;

	ASSERT_NE(NULL, buf);
	start(_metadata, self, variant, 64, false);
	/* A blocking write copies the chunk first. */
	ASSERT_EQ(0, wl_at(w, WL_ALIGNED, at, 8));
	stamp_buf(buf, at, 8, ++w->gen, w->seed);
	r = pwritev2(w->fd, &iov, 1, (off_t)(at << STAMP_SHIFT), RWF_NOWAIT);
	if (r < 0 && errno == EOPNOTSUPP)
		SKIP(goto out, "the origin does not take RWF_NOWAIT");
	EXPECT_EQ(4096, r);
	if (r == 4096)
		stamp_map_set(w->map, at, 8, w->gen);
	check(_metadata, self, "a RWF_NOWAIT write to a copied chunk");
out:
	free(buf);
}

/*
 * Discard on a device that really zeroes discarded sectors (null_blk,
 * memory-backed): on the VM's virtio disks the host ignores discards, so a
 * discard that skipped copy-on-write would go unnoticed there.
 */
TEST_F(pit, discard_keeps_image)
{
	struct wl *w = &self->w;
	u32 seed = w->seed;
	int ret;

	ret = vs_nullb_create("vs-pit", 128, self->nullb, sizeof(self->nullb));
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	wl_close(w);
	ASSERT_EQ(0, wl_open(w, self->nullb, seed, variant->chunk_size, seed));
	w->discard_zeroes = true;
	self->origin = self->nullb;
	start(_metadata, self, variant, 64, true);
	ret = wl_random(w, WL_BIT(WL_DISCARD), 0, self->n, ops(100));
	if (!ret)
		ret = wl_random(w, WL_ALL, 0, self->n, ops(100));
	if (!ret)
		ret = wl_random(w, WL_BIT(WL_DISCARD), w->dev_sectors - TAIL_SECT,
				TAIL_SECT, ops(20));
	if (ret)
		TH_LOG("%s failed: %s", w->last, strerror(-ret));
	ASSERT_EQ(0, ret);
	ASSERT_LT(0, w->done[WL_DISCARD]);
	check(_metadata, self, "discards on null_blk");
}

TEST_HARNESS_MAIN

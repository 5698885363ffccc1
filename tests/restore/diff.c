// SPDX-License-Identifier: GPL-2.0
/*
 * Changed chunks between two points in time (VOLSNAP_IOC_DIFF), against a
 * model the test keeps itself: the workload marks every chunk a request
 * touched. Snapshots A, B and C with random requests (writes of every
 * kind and the zeroing ones) between them; the module's list must be
 * exactly the chunks touched in between, at 4 KiB and 64 KiB chunks,
 * between two snapshots, up to now, across a deleted snapshot in between,
 * and when read one run per call. The data agrees: a chunk not listed
 * reads the same from both points. Also the refusals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"
#include "vstest.h"
#include "workload.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 1800

#define REGION	(32 * 2048ULL)	/* 32 MiB in sectors */

FIXTURE(diff) {
	int ctl;
	bool attached;
	const char *origin;
	unsigned int major, minor;
	u64 chunks;		/* chunks in REGION */
	struct wl w;
	struct volsnap_create a, b, c;
	u8 *ab, *bc, *cn;	/* chunks touched: A..B, B..C, C..now */
};

FIXTURE_VARIANT(diff) {
	unsigned int chunk_size;
	unsigned int requests;
};

FIXTURE_VARIANT_ADD(diff, chunk_4k) {
	.chunk_size = 4096,
	.requests = 60,
};

FIXTURE_VARIANT_ADD(diff, chunk_64k) {
	.chunk_size = 65536,
	.requests = 60,
};

typedef FIXTURE_DATA(diff) diff_t;

#define KINDS	(WL_ALL_WRITES | WL_ALL_ZEROING)

/* The touched marks of the region since the last call, and forget them. */
static u8 *take_touched(struct wl *w, u64 chunks)
{
	u8 *t = malloc(chunks);

	if (t) {
		memcpy(t, w->touched, chunks);
		wl_untouch(w);
	}
	return t;
}

FIXTURE_SETUP(diff)
{
	u32 seed = stamp_seed();
	unsigned int n = vs_scaled(variant->requests, variant->requests / 4);
	int ret;

	self->w.fd = -1;
	self->w.bfd = -1;
	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	vs_detach_all(self->ctl);
	self->origin = vs_disk_origin();
	ASSERT_EQ(0, vs_devno(self->origin, &self->major, &self->minor));
	self->chunks = REGION * 512 / variant->chunk_size;
	ASSERT_EQ(0, vs_wipe_store(vs_disk_store()));
	ASSERT_EQ(0, wl_open(&self->w, self->origin, seed, variant->chunk_size, seed));
	ASSERT_EQ(0, wl_fill(&self->w, 0, REGION, 1));
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, vs_disk_store(),
			       variant->chunk_size));
	self->attached = true;

	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->a));
	wl_untouch(&self->w);
	ret = wl_random(&self->w, KINDS, 0, REGION, n);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->w.last);
	self->ab = take_touched(&self->w, self->chunks);
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->b));
	ret = wl_random(&self->w, KINDS, 0, REGION, n);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->w.last);
	self->bc = take_touched(&self->w, self->chunks);
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->c));
	ret = wl_random(&self->w, KINDS, 0, REGION, n / 2);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->w.last);
	self->cn = take_touched(&self->w, self->chunks);
	ASSERT_NE(NULL, self->ab);
	ASSERT_NE(NULL, self->bc);
	ASSERT_NE(NULL, self->cn);
}

FIXTURE_TEARDOWN(diff)
{
	if (self->attached)
		EXPECT_EQ(0, vs_detach(self->ctl, self->origin, true));
	free(self->ab);
	free(self->bc);
	free(self->cn);
	wl_close(&self->w);
	close(self->ctl);
}

/*
 * The module's list from @from to @to (0: now), @per_call runs per call,
 * as one mark per chunk of the region. Returns 0 or -errno; *@calls counts
 * the calls.
 */
static int module_diff(diff_t *self, u32 from, u32 to, unsigned int per_call,
		       u8 *marks, unsigned int *calls)
{
	struct volsnap_extent *ext = calloc(per_call, sizeof(*ext));
	struct volsnap_diff d = {
		.flags = to ? 0 : VOLSNAP_DIFF_NOW,
		.major = self->major,
		.minor = self->minor,
		.from = from,
		.to = to,
		.extents = (uintptr_t)ext,
	};
	u64 prev_end = 0, i;
	unsigned int n;

	if (!ext)
		return -ENOMEM;
	memset(marks, 0, self->chunks);
	*calls = 0;
	do {
		d.count = per_call;
		d.chunk_size = 0;
		d.from_sectors = 0;
		d.to_sectors = 0;
		if (ioctl(self->ctl, VOLSNAP_IOC_DIFF, &d)) {
			free(ext);
			return -errno;
		}
		(*calls)++;
		for (n = 0; n < d.count; n++) {
			/* Ascending, not overlapping, inside the region. */
			if (ext[n].chunk < prev_end || !ext[n].count ||
			    ext[n].chunk + ext[n].count > self->chunks) {
				free(ext);
				return -ERANGE;
			}
			for (i = 0; i < ext[n].count; i++)
				marks[ext[n].chunk + i] = 1;
			prev_end = ext[n].chunk + ext[n].count;
		}
	} while (d.count == per_call);
	free(ext);
	return 0;
}

/* Compare the module's marks with the model's; log the first mismatches. */
static u64 mismatches(struct __test_metadata *_metadata, const u8 *got,
		      const u8 *want, u64 chunks, const char *what)
{
	u64 i, bad = 0;

	for (i = 0; i < chunks; i++) {
		if (!got[i] == !want[i])
			continue;
		if (++bad <= 5)
			TH_LOG("%s: chunk %llu %s", what, (unsigned long long)i,
			       got[i] ? "listed but not written" :
			       "written but not listed");
	}
	return bad;
}

static u64 count(const u8 *m, u64 chunks)
{
	u64 i, n = 0;

	for (i = 0; i < chunks; i++)
		n += !!m[i];
	return n;
}

TEST_F(diff, between_snapshots_and_up_to_now_exactly_what_was_written)
{
	u8 *got = malloc(self->chunks), *want = malloc(self->chunks);
	unsigned int calls;
	u64 i;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	TH_LOG("touched A..B %llu, B..C %llu, C..now %llu of %llu chunks",
	       (unsigned long long)count(self->ab, self->chunks),
	       (unsigned long long)count(self->bc, self->chunks),
	       (unsigned long long)count(self->cn, self->chunks),
	       (unsigned long long)self->chunks);
	ASSERT_LT(0, count(self->ab, self->chunks));

	ASSERT_EQ(0, module_diff(self, self->a.id, self->b.id, VOLSNAP_DIFF_MAX,
				 got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, self->ab, self->chunks, "A..B"));

	ASSERT_EQ(0, module_diff(self, self->b.id, self->c.id, VOLSNAP_DIFF_MAX,
				 got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, self->bc, self->chunks, "B..C"));

	ASSERT_EQ(0, module_diff(self, self->c.id, 0, VOLSNAP_DIFF_MAX, got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, self->cn, self->chunks, "C..now"));

	for (i = 0; i < self->chunks; i++)
		want[i] = self->ab[i] | self->bc[i] | self->cn[i];
	ASSERT_EQ(0, module_diff(self, self->a.id, 0, VOLSNAP_DIFF_MAX, got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, want, self->chunks, "A..now"));
	free(got);
	free(want);
}

TEST_F(diff, one_run_per_call_gives_the_same_list)
{
	u8 *got = malloc(self->chunks), *want = malloc(self->chunks);
	unsigned int calls, all;
	u64 i;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	for (i = 0; i < self->chunks; i++)
		want[i] = self->ab[i] | self->bc[i];
	ASSERT_EQ(0, module_diff(self, self->a.id, self->c.id, 1, got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, want, self->chunks, "A..C by 1"));
	ASSERT_EQ(0, module_diff(self, self->a.id, self->c.id, VOLSNAP_DIFF_MAX,
				 want, &all));
	/* One run per call: as many calls as runs, plus the empty last one. */
	EXPECT_LT(all, calls);
	free(got);
	free(want);
}

TEST_F(diff, a_deleted_snapshot_in_between_changes_nothing)
{
	u8 *got = malloc(self->chunks), *want = malloc(self->chunks);
	unsigned int calls;
	u64 i;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, vs_delete(self->ctl, self->origin, self->b.id, false));
	for (i = 0; i < self->chunks; i++)
		want[i] = self->ab[i] | self->bc[i];
	ASSERT_EQ(0, module_diff(self, self->a.id, self->c.id, VOLSNAP_DIFF_MAX,
				 got, &calls));
	EXPECT_EQ(0, mismatches(_metadata, got, want, self->chunks, "A..C"));
	EXPECT_EQ(-ENOENT, module_diff(self, self->b.id, self->c.id, 16, got,
				       &calls));
	free(got);
	free(want);
}

/* Read chunk @i of an open device into @buf. */
static int read_chunk(int fd, u64 i, unsigned int size, void *buf)
{
	return pread(fd, buf, size, (off_t)(i * size)) == (ssize_t)size ? 0 : -EIO;
}

TEST_F(diff, a_chunk_not_listed_reads_the_same_from_both_points)
{
	unsigned int size = variant->chunk_size, calls;
	u8 *got = malloc(self->chunks);
	void *x = stamp_alloc(size), *y = stamp_alloc(size);
	u64 i, same = 0, listed_differ = 0;
	int fa, fc;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, x);
	ASSERT_NE(NULL, y);
	fa = vs_image_open(self->a.image_index, O_RDONLY | O_DIRECT);
	fc = vs_image_open(self->c.image_index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fc);
	ASSERT_EQ(0, module_diff(self, self->a.id, self->c.id, VOLSNAP_DIFF_MAX,
				 got, &calls));
	for (i = 0; i < self->chunks; i++) {
		ASSERT_EQ(0, read_chunk(fa, i, size, x));
		ASSERT_EQ(0, read_chunk(fc, i, size, y));
		if (memcmp(x, y, size)) {
			EXPECT_TRUE(got[i]) TH_LOG("chunk %llu differs, not listed",
						   (unsigned long long)i);
			listed_differ += got[i];
		} else {
			same += !got[i];
		}
	}
	TH_LOG("%llu listed chunks differ, %llu unlisted are equal",
	       (unsigned long long)listed_differ, (unsigned long long)same);
	EXPECT_LT(0, listed_differ);
	close(fa);
	close(fc);
	free(x);
	free(y);
	free(got);
}

/* One call with @d as given (extents pointed at a scratch array). */
static int diff_call(diff_t *self, struct volsnap_diff *d)
{
	struct volsnap_extent ext[4];

	d->major = d->major ?: self->major;
	d->minor = d->minor ?: self->minor;
	d->extents = (uintptr_t)ext;
	d->count = d->count ?: 4;
	return ioctl(self->ctl, VOLSNAP_IOC_DIFF, d) ? -errno : 0;
}

TEST_F(diff, refusals)
{
	struct volsnap_diff d;
	u32 a = self->a.id, c = self->c.id;

	memset(&d, 0, sizeof(d));
	d.from = c;
	d.to = a;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));	/* to older than from */
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = a;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));	/* to same as from */
	memset(&d, 0, sizeof(d));
	d.from = a;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));	/* no to, no NOW */
	memset(&d, 0, sizeof(d));
	d.flags = VOLSNAP_DIFF_NOW;
	d.from = a;
	d.to = c;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));	/* NOW and a to */
	memset(&d, 0, sizeof(d));
	d.flags = 1U << 7;
	d.from = a;
	d.to = c;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));	/* unknown flag */
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c;
	d.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c;
	d.count = VOLSNAP_DIFF_MAX + 1;
	EXPECT_EQ(-EINVAL, diff_call(self, &d));
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c;
	d.start = vs_dev_sectors(self->origin);	/* chunks: far past the end */
	EXPECT_EQ(-EINVAL, diff_call(self, &d));
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c + 100;
	EXPECT_EQ(-ENOENT, diff_call(self, &d));
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c;
	d.major = 1;		/* a RAM disk number, not attached */
	d.minor = 255;
	EXPECT_EQ(-ENODEV, diff_call(self, &d));
	memset(&d, 0, sizeof(d));
	d.from = a;
	d.to = c;
	EXPECT_EQ(0, diff_call(self, &d));
	EXPECT_EQ(variant->chunk_size, d.chunk_size);
	EXPECT_EQ(vs_dev_sectors(self->origin), d.from_sectors);
	EXPECT_EQ(vs_dev_sectors(self->origin), d.to_sectors);
}

/*
 * A store too small for what is written: the snapshot is invalid and what
 * changed since it is no longer known (ESTALE), not a short list.
 */
TEST(invalid_snapshot_estale)
{
	const char *origin = vs_disk_origin();
	struct volsnap_create snap;
	struct volsnap_diff d = { .flags = VOLSNAP_DIFF_NOW, .count = 4 };
	struct volsnap_extent ext[4];
	char store[64];
	u32 seed = stamp_seed();
	struct wl w = { .fd = -1, .bfd = -1 };
	int ctl, ret;

	ASSERT_EQ(0, vs_module_load());
	ctl = vs_ctl_open();
	ASSERT_LE(0, ctl);
	vs_detach_all(ctl);
	ret = vs_nullb_create("vsdiff", 2, store, sizeof(store));
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vs_attach(ctl, origin, store, 65536));
	ASSERT_EQ(0, vs_create(ctl, origin, 0, &snap));
	ASSERT_EQ(0, wl_open(&w, origin, seed, 65536, seed));
	/* 8 MiB of copies into a 2 MiB store. */
	ASSERT_EQ(0, wl_fill(&w, 0, 8 * 2048, 0));
	ASSERT_EQ(0, vs_devno(origin, &d.major, &d.minor));
	d.from = snap.id;
	d.extents = (uintptr_t)ext;
	EXPECT_EQ(-1, ioctl(ctl, VOLSNAP_IOC_DIFF, &d));
	EXPECT_EQ(ESTALE, errno);
	wl_close(&w);
	EXPECT_EQ(0, vs_detach(ctl, origin, true));
	vs_nullb_destroy("vsdiff");
	close(ctl);
}

TEST_HARNESS_MAIN

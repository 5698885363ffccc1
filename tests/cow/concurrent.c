// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: threads writing to the origin while other threads read the
 * snapshot images. Readers must see each image's instant on every read,
 * during the writes, not only afterwards (a read served from the origin
 * must not see data written after the instant). Snapshots created while
 * writes are in flight must be one instant (design.md, "Atomic instant"):
 * for each writer, the image holds a prefix of its writes, every write that
 * finished before the create began and none that began after it returned,
 * with at most the one write in flight at the instant partly present.
 *
 * Layout of the 64 MiB region: the first half is interleaved in 4 KiB units
 * between writers 0 and 1 (small writes, so both often hit one chunk at
 * once), the second half belongs to writer 2 (writes up to 2 MiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* 64 MiB in sectors; 16 under the debug profile (KASAN, lockdep). */
#define REGION		(vs_scaled(64, 16) * 2048ULL)
#define HALF		(REGION / 2)
#define NWRITERS	3
#define NSNAP		3

struct wlog {
	u64 sector, n;
	u32 gen;
	u64 t0, t1;	/* ns: before the write, after it returned */
};

struct writer {
	pthread_t thread;
	unsigned int id;
	u32 seed;
	u32 *map;		/* shared; each writer owns its sectors */
	const char *dev;
	int *stop;
	struct wlog *log;
	size_t nlog, cap;
	int err;
};

struct reader {
	pthread_t thread;
	unsigned int index;	/* image /dev/volsnapN */
	const u32 *inst;
	u32 seed;
	int *stop;
	unsigned long reads, bad;
	u64 first_bad;
	char what[160];
	int err;
};

static u32 next_gen = 1000;

static unsigned int owner(u64 s)
{
	return s < HALF ? (s / 8) % 2 : 2;
}

static void *writer_fn(void *arg)
{
	struct writer *wr = arg;
	struct stamp_rng rng;
	int fd;

	stamp_rng_init(&rng, wr->seed + wr->id);
	fd = open(wr->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		wr->err = -errno;
		return NULL;
	}
	while (!__atomic_load_n(wr->stop, __ATOMIC_RELAXED) && !wr->err) {
		struct wlog e;

		if (wr->id < 2) {
			u64 unit = stamp_rng_range(&rng, 0, HALF / 16 - 1) * 2 + wr->id;
			u64 off = stamp_rng_range(&rng, 0, 7);

			e.sector = unit * 8 + off;
			e.n = stamp_rng_range(&rng, 1, 8 - off);
		} else {
			e.n = stamp_rng_range(&rng, 1, 4096);
			e.sector = HALF + stamp_rng_range(&rng, 0, HALF - e.n);
		}
		e.gen = __atomic_fetch_add(&next_gen, 1, __ATOMIC_RELAXED);
		e.t0 = vs_now_ns();
		wr->err = stamp_write(fd, e.sector, e.n, e.gen, wr->seed);
		e.t1 = vs_now_ns();
		if (wr->err)
			break;
		stamp_map_set(wr->map, e.sector, e.n, e.gen);
		if (wr->nlog == wr->cap) {
			wr->cap = wr->cap ? wr->cap * 2 : 4096;
			wr->log = realloc(wr->log, wr->cap * sizeof(*wr->log));
			if (!wr->log) {
				wr->err = -ENOMEM;
				break;
			}
		}
		wr->log[wr->nlog++] = e;
	}
	close(fd);
	return NULL;
}

static void *reader_fn(void *arg)
{
	struct reader *rd = arg;
	unsigned int lbs = 512;
	struct stamp_rng rng;
	size_t maxlen = 256 * STAMP_SECTOR;
	char *buf = stamp_alloc(maxlen);
	int fd;

	stamp_rng_init(&rng, rd->seed + 100 + rd->index);
	fd = vs_image_open(rd->index, O_RDONLY | O_DIRECT);
	if (fd < 0 || !buf) {
		rd->err = fd < 0 ? fd : -ENOMEM;
		free(buf);
		return NULL;
	}
	if (ioctl(fd, BLKSSZGET, &lbs) || lbs < 512)
		lbs = 512;
	while (!__atomic_load_n(rd->stop, __ATOMIC_RELAXED)) {
		u64 step = lbs / STAMP_SECTOR;
		u64 n = stamp_rng_range(&rng, 1, 256 / step) * step;
		u64 at = stamp_rng_range(&rng, 0, (REGION - n) / step) * step;
		u64 i;

		if (pread(fd, buf, n * STAMP_SECTOR, (off_t)(at << STAMP_SHIFT)) !=
		    (ssize_t)(n * STAMP_SECTOR)) {
			rd->err = -errno;
			break;
		}
		rd->reads++;
		for (i = 0; i < n; i++) {
			const char *s = buf + i * STAMP_SECTOR;

			if (stamp_match(s, at + i, rd->inst[at + i], rd->seed))
				continue;
			if (!rd->bad++) {
				rd->first_bad = at + i;
				stamp_describe(s, rd->seed, rd->what,
					       sizeof(rd->what));
			}
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

FIXTURE(conc) {
	int ctl;
	bool attached;
	const char *origin;
	struct wl w;
	int stop;
	struct writer wr[NWRITERS];
	struct volsnap_create snap[NSNAP];
	u32 *inst[NSNAP];
	u64 t0[NSNAP], t1[NSNAP];
};

FIXTURE_VARIANT(conc) {
	unsigned int chunk_size;
};

FIXTURE_VARIANT_ADD(conc, chunk_4k) { .chunk_size = 4096 };
FIXTURE_VARIANT_ADD(conc, chunk_64k) { .chunk_size = 65536 };
FIXTURE_VARIANT_ADD(conc, chunk_1m) { .chunk_size = 1048576 };

/* Names for helpers' parameters (checkpatch misreads the macros). */
typedef FIXTURE_DATA(conc) conc_t;

FIXTURE_SETUP(conc)
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
	ASSERT_EQ(0, wl_fill(&self->w, 0, REGION, 1));
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, vs_disk_store(),
			       variant->chunk_size));
	self->attached = true;
}

FIXTURE_TEARDOWN(conc)
{
	unsigned int i, count = 0;

	__atomic_store_n(&self->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWRITERS; i++) {
		if (self->wr[i].thread)
			pthread_join(self->wr[i].thread, NULL);
		free(self->wr[i].log);
	}
	if (self->attached) {
		EXPECT_EQ(0, vs_detach(self->ctl, self->origin, true));
		EXPECT_EQ(-ENODEV, vs_status(self->ctl, self->origin, NULL,
					     NULL, &count));
	}
	for (i = 0; i < NSNAP; i++)
		free(self->inst[i]);
	wl_close(&self->w);
	close(self->ctl);
}

static void start_writers(struct __test_metadata *_metadata,
			  conc_t *self)
{
	unsigned int i;

	__atomic_store_n(&self->stop, 0, __ATOMIC_RELAXED);
	for (i = 0; i < NWRITERS; i++) {
		struct writer *wr = &self->wr[i];

		wr->id = i;
		wr->seed = self->w.seed;
		wr->map = self->w.map;
		wr->dev = self->origin;
		wr->stop = &self->stop;
		ASSERT_EQ(0, pthread_create(&wr->thread, NULL, writer_fn, wr));
	}
}

static void stop_writers(struct __test_metadata *_metadata,
			 conc_t *self)
{
	unsigned int i;

	__atomic_store_n(&self->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWRITERS; i++) {
		pthread_join(self->wr[i].thread, NULL);
		self->wr[i].thread = 0;
		TH_LOG("writer %u: %zu writes", i, self->wr[i].nlog);
		EXPECT_EQ(0, self->wr[i].err);
		EXPECT_LT(0, self->wr[i].nlog);
	}
}

static void take(struct __test_metadata *_metadata, conc_t *self,
		 unsigned int i)
{
	self->t0[i] = vs_now_ns();
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->snap[i]));
	self->t1[i] = vs_now_ns();
	self->inst[i] = malloc(REGION * sizeof(u32));
	ASSERT_NE(NULL, self->inst[i]);
	memcpy(self->inst[i], self->w.map, REGION * sizeof(u32));
}

static void verify_images(struct __test_metadata *_metadata,
			  conc_t *self, const char *when)
{
	char label[96];
	unsigned int i;
	int fd;

	for (i = 0; i < NSNAP; i++) {
		fd = vs_image_open(self->snap[i].image_index, O_RDONLY | O_DIRECT);
		ASSERT_LE(0, fd);
		snprintf(label, sizeof(label), "snapshot %u %s", i + 1, when);
		EXPECT_EQ(0, stamp_verify(fd, 0, REGION, self->inst[i], 0,
					  self->w.seed, label));
		close(fd);
	}
	snprintf(label, sizeof(label), "origin %s", when);
	EXPECT_EQ(0, stamp_verify(self->w.fd, 0, REGION, self->w.map, 0,
				  self->w.seed, label));
}

TEST_F(conc, readers_see_instant_while_writers_run)
{
	struct reader rd[NSNAP];
	unsigned int i;

	memset(rd, 0, sizeof(rd));
	for (i = 0; i < NSNAP; i++) {
		take(_metadata, self, i);
		ASSERT_EQ(0, wl_random(&self->w, WL_ALL_WRITES, 0, REGION, 40));
	}
	start_writers(_metadata, self);
	for (i = 0; i < NSNAP; i++) {
		rd[i].index = self->snap[i].image_index;
		rd[i].inst = self->inst[i];
		rd[i].seed = self->w.seed;
		rd[i].stop = &self->stop;
		ASSERT_EQ(0, pthread_create(&rd[i].thread, NULL, reader_fn,
					    &rd[i]));
	}
	sleep(6);
	stop_writers(_metadata, self);
	for (i = 0; i < NSNAP; i++) {
		pthread_join(rd[i].thread, NULL);
		TH_LOG("reader of snapshot %u: %lu reads, %lu wrong sectors",
		       i + 1, rd[i].reads, rd[i].bad);
		if (rd[i].bad)
			TH_LOG("  first wrong: sector %llu, expected gen %u, found %s",
			       (unsigned long long)rd[i].first_bad,
			       rd[i].inst[rd[i].first_bad], rd[i].what);
		EXPECT_EQ(0, rd[i].err);
		EXPECT_LT(0, rd[i].reads);
		EXPECT_EQ(0, rd[i].bad);
	}
	verify_images(_metadata, self, "after concurrent writes and reads");
}

/*
 * Does the image content `found` (whole region) hold, for writer wr's
 * sectors, a prefix of its writes consistent with the create's window
 * [t0, t1]? Logs the reason when not.
 */
static bool prefix_consistent(struct __test_metadata *_metadata,
			      const struct writer *wr, const u32 *found,
			      u32 *exp, u64 t0, u64 t1)
{
	size_t a = 0, b, c, j;
	u64 s, mism = 0;

	/* a: writes done before the create began; b: first begun after. */
	while (a < wr->nlog && wr->log[a].t1 < t0)
		a++;
	b = a;
	while (b < wr->nlog && wr->log[b].t0 <= t1)
		b++;
	for (s = 0; s < REGION; s++)
		exp[s] = 1;
	for (j = 0; j < a; j++)
		stamp_map_set(exp, wr->log[j].sector, wr->log[j].n,
			      wr->log[j].gen);
	for (s = 0; s < REGION; s++)
		if (owner(s) == wr->id && found[s] != exp[s])
			mism++;
	for (c = a; c <= b; c++) {
		const struct wlog *nx = c < b ? &wr->log[c] : NULL;
		u64 explained = 0;

		/* Prefix of c writes, plus part of write c if in doubt. */
		if (nx)
			for (s = nx->sector; s < nx->sector + nx->n; s++)
				if (found[s] == nx->gen && exp[s] != nx->gen)
					explained++;
		if (mism == explained)
			return true;
		if (!nx)
			break;
		for (s = nx->sector; s < nx->sector + nx->n; s++) {
			mism -= found[s] != exp[s];
			exp[s] = nx->gen;
			mism += found[s] != exp[s];
		}
	}
	TH_LOG("writer %u: image is no prefix of its writes: %zu done before "
	       "the create, %zu in flight during it", wr->id, a, b - a);
	/* Name a few sectors that differ from the "done before" prefix. */
	for (s = 0; s < REGION; s++)
		exp[s] = 1;
	for (j = 0; j < a; j++)
		stamp_map_set(exp, wr->log[j].sector, wr->log[j].n,
			      wr->log[j].gen);
	for (s = 0, j = 0; s < REGION && j < 8; s++) {
		if (owner(s) != wr->id || found[s] == exp[s])
			continue;
		TH_LOG("  sector %llu: gen %u before the create, image has %s%u",
		       (unsigned long long)s, exp[s],
		       found[s] == STAMP_SCAN_BAD ? "a bad sector " : "gen ",
		       found[s] == STAMP_SCAN_BAD ? 0 : found[s]);
		j++;
	}
	return false;
}

TEST_F(conc, create_during_writes_is_one_instant)
{
	u32 *found = malloc(REGION * sizeof(u32));
	u32 *exp = malloc(REGION * sizeof(u32));
	unsigned int i, k;
	int fd;

	ASSERT_NE(NULL, found);
	ASSERT_NE(NULL, exp);
	start_writers(_metadata, self);
	for (i = 0; i < NSNAP; i++) {
		usleep(700000);
		self->t0[i] = vs_now_ns();
		ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &self->snap[i]));
		self->t1[i] = vs_now_ns();
		TH_LOG("snapshot %u created in %.1f ms, writes held %.3f ms",
		       i + 1, (self->t1[i] - self->t0[i]) / 1e6,
		       self->snap[i].hold_ns / 1e6);
	}
	usleep(700000);
	stop_writers(_metadata, self);
	for (i = 0; i < NSNAP; i++) {
		fd = vs_image_open(self->snap[i].image_index, O_RDONLY | O_DIRECT);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, stamp_scan(fd, 0, REGION, found, self->w.seed));
		close(fd);
		for (k = 0; k < NWRITERS; k++) {
			bool okay = prefix_consistent(_metadata, &self->wr[k],
						      found, exp, self->t0[i],
						      self->t1[i]);

			if (!okay)
				TH_LOG("  (snapshot %u)", i + 1);
			EXPECT_TRUE(okay);
		}
	}
	EXPECT_EQ(0, stamp_verify(self->w.fd, 0, REGION, self->w.map, 0,
				  self->w.seed, "origin after the writers"));
	free(found);
	free(exp);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The engine through the raw ioctl ABI, without snapctl: attach, snapshot,
 * overwrite the origin, read the image back byte for byte, delete, detach.
 * Variants run the same scenario over the smallest, default and largest
 * chunk sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vsops.h"
#include "vstest.h"

#define REGION	(16 << 20)
#define BS	4096

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i / 512) * 7 + seed * 131 + (i % 512));
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

FIXTURE(engine) {
	int ctl, origin, store;
	dev_t odev;
	unsigned char *pre, *buf;
};

FIXTURE_VARIANT(engine) {
	unsigned int chunk;
};

FIXTURE_VARIANT_ADD(engine, chunk_4k) { .chunk = 4096 };
FIXTURE_VARIANT_ADD(engine, chunk_64k) { .chunk = 65536 };
FIXTURE_VARIANT_ADD(engine, chunk_1m) { .chunk = 1 << 20 };

FIXTURE_SETUP(engine)
{
	struct volsnap_attach a;
	struct stat st;

	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->origin = open(getenv("VS_DISK_ORIGIN"), O_RDWR | O_DIRECT);
	self->store = open(getenv("VS_DISK_STORE"), O_RDONLY);
	ASSERT_LE(0, self->origin);
	ASSERT_LE(0, self->store);
	ASSERT_EQ(0, fstat(self->origin, &st));
	self->odev = st.st_rdev;
	ASSERT_EQ(0, posix_memalign((void **)&self->pre, BS, REGION));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, BS, REGION));
	fill(self->pre, REGION, 1);
	ASSERT_EQ(0, pwrite_all(self->origin, self->pre, REGION, 0));

	memset(&a, 0, sizeof(a));
	a.origin_fd = self->origin;
	a.store_fd = self->store;
	a.chunk_size = variant->chunk;
	ASSERT_EQ(0, ioctl(self->ctl, VOLSNAP_IOC_ATTACH, &a)) {
		TH_LOG("attach: %s", strerror(errno));
	}
}

FIXTURE_TEARDOWN(engine)
{
	struct volsnap_origin_cmd c;

	memset(&c, 0, sizeof(c));
	c.major = major(self->odev);
	c.minor = minor(self->odev);
	c.flags = VOLSNAP_DETACH_FORCE;
	EXPECT_EQ(0, ioctl(self->ctl, VOLSNAP_IOC_DETACH, &c));
	close(self->origin);
	close(self->store);
	close(self->ctl);
	free(self->pre);
	free(self->buf);
}

static int create(struct __test_metadata *_metadata, int ctl, dev_t odev,
		  struct volsnap_create *c)
{
	memset(c, 0, sizeof(*c));
	c->major = major(odev);
	c->minor = minor(odev);
	if (ioctl(ctl, VOLSNAP_IOC_CREATE, c))
		return -errno;
	TH_LOG("snapshot %u: volsnap%u, writes held %llu us", c->id,
	       c->image_index, (unsigned long long)c->hold_ns / 1000);
	return 0;
}

static int read_image(unsigned int index, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/volsnap%u", index);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Writes of many shapes over the region, with a new pattern. */
static void scribble(int fd, unsigned char *buf, unsigned int seed)
{
	static const struct { off_t off; size_t len; } w[] = {
		{ 0, 4096 }, { 8192, 512 * 3 }, { 65536 - 4096, 8192 },
		{ 1 << 20, 1 << 20 }, { (3 << 20) + 4096, 200 << 10 },
		{ (8 << 20) - 512 * 9, 512 * 20 }, { REGION - 4096, 4096 },
	};
	size_t i;

	fill(buf, REGION, seed);
	for (i = 0; i < ARRAY_SIZE(w); i++)
		if (pwrite(fd, buf + w[i].off, w[i].len, w[i].off) != (ssize_t)w[i].len)
			abort();
}

TEST_F(engine, image_is_point_in_time)
{
	struct volsnap_create c;

	ASSERT_EQ(0, create(_metadata, self->ctl, self->odev, &c));
	scribble(self->origin, self->buf, 2);
	ASSERT_EQ(0, read_image(c.image_index, self->buf, REGION));
	EXPECT_EQ(0, memcmp(self->buf, self->pre, REGION));
}

TEST_F(engine, two_snapshots_one_copy)
{
	struct volsnap_create c1, c2;
	unsigned char *mid;

	ASSERT_EQ(0, create(_metadata, self->ctl, self->odev, &c1));
	scribble(self->origin, self->buf, 2);
	ASSERT_EQ(0, posix_memalign((void **)&mid, BS, REGION));
	ASSERT_EQ(REGION, pread(self->origin, mid, REGION, 0));
	ASSERT_EQ(0, create(_metadata, self->ctl, self->odev, &c2));
	scribble(self->origin, self->buf, 3);
	ASSERT_EQ(0, read_image(c1.image_index, self->buf, REGION));
	EXPECT_EQ(0, memcmp(self->buf, self->pre, REGION));
	ASSERT_EQ(0, read_image(c2.image_index, self->buf, REGION));
	EXPECT_EQ(0, memcmp(self->buf, mid, REGION));
	free(mid);
}

/*
 * Large writes copy whole runs of chunks at once: one copy per chunk
 * touched, none twice, none lost, and the image exact. Concurrent writers
 * overlap each other's runs (joining a copy in progress, or starting one
 * for the chunks after it).
 */
TEST_F(engine, large_writes_copy_each_chunk_once)
{
	static const struct { off_t off; size_t len; } w[] = {
		{ 0, 4 << 20 }, { 2 << 20, 3 << 20 }, { (6 << 20) + 512, 8 << 20 },
		{ 5 << 20, 4096 }, { REGION - (3 << 20), 3 << 20 },
	};
	struct volsnap_origin_info info;
	unsigned int count = 0, i;
	unsigned char *touched;
	u64 chunks = 0, c;
	struct volsnap_create cr;
	pid_t pid[ARRAY_SIZE(w)];
	int st;

	ASSERT_EQ(0, create(_metadata, self->ctl, self->odev, &cr));
	fill(self->buf, REGION, 7);
	touched = calloc(REGION / variant->chunk, 1);
	ASSERT_NE(NULL, touched);
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		for (c = w[i].off / variant->chunk;
		     c <= (w[i].off + w[i].len - 1) / variant->chunk; c++)
			chunks += !touched[c]++;
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			_exit(pwrite(self->origin, self->buf + w[i].off, w[i].len,
				     w[i].off) != (ssize_t)w[i].len);
	}
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_EQ(0, st);
	}
	ASSERT_EQ(0, vs_status(self->ctl, getenv("VS_DISK_ORIGIN"), &info,
			       NULL, &count));
	TH_LOG("%llu chunks touched, %llu store chunks used",
	       (unsigned long long)chunks,
	       (unsigned long long)info.store_used);
	EXPECT_EQ(chunks, info.store_used);
	ASSERT_EQ(0, read_image(cr.image_index, self->buf, REGION));
	EXPECT_EQ(0, memcmp(self->buf, self->pre, REGION));
	free(touched);
}

TEST_HARNESS_MAIN

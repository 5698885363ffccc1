// SPDX-License-Identifier: GPL-2.0
/*
 * _crashload - the write load of crash/origin and its verification.
 *
 *   _crashload prepare DIR LOG   write the files the load rewrites, fsync
 *                                them and DIR, clear the log
 *   _crashload run DIR LOG       the load, until killed (or 600 s)
 *   _crashload verify DIR LOG    every write the log says was acknowledged
 *                                is in DIR's files, and nothing else
 *
 * DIR is on the filesystem of the origin; LOG is a block device of its own
 * (not attached), written with O_DIRECT | O_DSYNC, so that a record the
 * kernel acknowledged is in QEMU's disk file when QEMU is killed.
 *
 * Three writers run at once, each alone on its files and each issuing its
 * next operation only once the previous one is acknowledged and logged:
 *
 *   0  groups of 1 to 8 buffered 4 KiB writes at random blocks of "buf",
 *      then fdatasync();
 *   1  one O_DIRECT | O_DSYNC 4 KiB write at a random block of "dsync"
 *      (a preallocated, written file: an overwrite, FUA or a flush);
 *   2  a new file of 1 to 16 blocks written as "tmp.N", fsync(), renamed
 *      to "f.N", the directory fsync()ed; f.(N-32) is unlinked first.
 *
 * Operation N of writer W is a pure function of ($VS_SEED, W, N): its
 * blocks and their contents (a header naming seed, writer, N and block,
 * then pseudo-random bytes). After operation N is acknowledged, the writer
 * stores "N + 1 done" in one of two 512-byte slots of its own on LOG
 * (alternating, so a torn slot leaves the other). Verify reads the newest
 * valid slot of each writer, D operations done, and requires each block to
 * hold the last of operations 0..D-1 that wrote it (or its initial
 * contents), or what operation D writes there: D may have been issued, or
 * even acknowledged, before the kill hit its log record. For writer 2:
 * f.0 .. f.(D-1) exist with their contents except the ones unlinked by
 * operations up to D-1 (absent) and f.(D-32) (either), f.D is absent or
 * complete, and no later f.N exists.
 *
 * "run" creates /tmp/crash.running once every writer has logged an
 * operation, and prints the counts every 2 seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vstypes.h"

#define BLK		4096
#define FILE_BLOCKS	2048		/* "buf" and "dsync": 8 MiB each */
#define WRITERS		3
#define KEEP_FILES	32
#define MAX_FILE_BLOCKS	16
#define INITIAL		UINT64_MAX	/* operation "number" of the initial data */
#define DATA_MAGIC	0x3154414443535600ULL	/* "\0VSCDAT1" */
#define LOG_MAGIC	0x31474f4c43535600ULL	/* "\0VSCLOG1" */
#define RUN_LIMIT	600

struct data_hdr {
	u64 magic;
	u64 seed;
	u64 op;
	u32 writer;
	u32 block;
};

struct log_rec {
	u64 magic;
	u64 seed;
	u64 done;
	u32 writer;
	u32 pad;
	u64 check;
};

static u64 seed;
static const char *dir;
static int log_fd;
static u64 done_ops[WRITERS];	/* __atomic: read by the main thread */

static u64 mix(u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static u64 hash4(u64 a, u64 b, u64 c, u64 d)
{
	return mix(mix(mix(mix(a) ^ b) ^ c) ^ d);
}

/* The contents of @block as operation @op of @writer leaves it. */
static void fill(void *buf, unsigned int writer, u64 op, u32 block)
{
	struct data_hdr *h = buf;
	u64 *p = buf, x = hash4(seed, writer, op, block);
	size_t i;

	for (i = sizeof(*h) / 8; i < BLK / 8; i++) {
		x = mix(x);
		p[i] = x;
	}
	h->magic = DATA_MAGIC;
	h->seed = seed;
	h->op = op;
	h->writer = writer;
	h->block = block;
}

/* Blocks of "buf" or "dsync" that operation @op of @writer writes. */
static unsigned int op_blocks(unsigned int writer, u64 op, u32 *blocks)
{
	u64 h = hash4(seed, writer, op, 1000);
	unsigned int n = writer == 0 ? 1 + h % 8 : 1, i;

	for (i = 0; i < n; i++) {
		h = mix(h);
		blocks[i] = h % FILE_BLOCKS;
	}
	return n;
}

/* Size in blocks of f.@op, the file that operation @op of writer 2 makes. */
static unsigned int file_blocks(u64 op)
{
	return 1 + hash4(seed, 2, op, 2000) % MAX_FILE_BLOCKS;
}

static void *xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, BLK, len)) {
		perror("posix_memalign");
		exit(1);
	}
	return p;
}

static void die(const char *what)
{
	fprintf(stderr, "_crashload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void log_done(unsigned int writer, u64 done)
{
	struct log_rec *r = xalloc(512);

	memset(r, 0, 512);
	r->magic = LOG_MAGIC;
	r->seed = seed;
	r->done = done;
	r->writer = writer;
	r->check = hash4(r->magic, seed, done, writer);
	if (pwrite(log_fd, r, 512, writer * BLK + (done % 2) * 512) != 512)
		die("log write");
	free(r);
	__atomic_store_n(&done_ops[writer], done, __ATOMIC_RELAXED);
}

/* The newest valid log record of @writer: operations done, 0 if none. */
static u64 log_read(unsigned int writer)
{
	char *buf = xalloc(1024);
	const struct log_rec *r;
	u64 best = 0;
	int s;

	if (pread(log_fd, buf, 1024, writer * BLK) != 1024)
		die("log read");
	for (s = 0; s < 2; s++) {
		r = (const void *)(buf + s * 512);
		if (r->magic == LOG_MAGIC && r->seed == seed &&
		    r->writer == writer &&
		    r->check == hash4(LOG_MAGIC, seed, r->done, writer) &&
		    r->done > best)
			best = r->done;
	}
	free(buf);
	return best;
}

static int open_in(const char *name, int flags)
{
	char p[512];
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, flags, 0644);
	if (fd < 0)
		die(p);
	return fd;
}

static void *block_writer(void *arg)
{
	unsigned int w = (uintptr_t)arg, n, i;
	int fd = open_in(w ? "dsync" : "buf",
			 O_WRONLY | (w ? O_DIRECT | O_DSYNC : 0));
	u32 blocks[8];
	char *buf = xalloc(BLK);
	u64 op;

	for (op = 0;; op++) {
		n = op_blocks(w, op, blocks);
		for (i = 0; i < n; i++) {
			fill(buf, w, op, blocks[i]);
			if (pwrite(fd, buf, BLK, (off_t)blocks[i] * BLK) != BLK)
				die("data write");
		}
		if (!w && fdatasync(fd))
			die("fdatasync");
		log_done(w, op + 1);
	}
	return NULL;
}

static void *file_writer(void *arg)
{
	char tmp[64], name[64], p[512], q[512];
	char *buf = xalloc(BLK);
	unsigned int i, n;
	int fd, dfd;
	u64 op;

	(void)arg;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die(dir);
	for (op = 0;; op++) {
		if (op >= KEEP_FILES) {
			snprintf(name, sizeof(name), "f.%llu",
				 (unsigned long long)(op - KEEP_FILES));
			path_of(p, sizeof(p), name);
			if (unlink(p))
				die(p);
		}
		snprintf(tmp, sizeof(tmp), "tmp.%llu", (unsigned long long)op);
		fd = open_in(tmp, O_WRONLY | O_CREAT | O_TRUNC);
		n = file_blocks(op);
		for (i = 0; i < n; i++) {
			fill(buf, 2, op, i);
			if (write(fd, buf, BLK) != BLK)
				die("file write");
		}
		if (fsync(fd))
			die("fsync");
		close(fd);
		snprintf(name, sizeof(name), "f.%llu", (unsigned long long)op);
		path_of(p, sizeof(p), tmp);
		path_of(q, sizeof(q), name);
		if (rename(p, q))
			die("rename");
		if (fsync(dfd))
			die("fsync dir");
		log_done(2, op + 1);
	}
	return NULL;
}

static void prepare(void)
{
	char *buf = xalloc(BLK);
	unsigned int w, b;
	int fd;

	for (w = 0; w < 2; w++) {
		fd = open_in(w ? "dsync" : "buf", O_WRONLY | O_CREAT | O_TRUNC);
		for (b = 0; b < FILE_BLOCKS; b++) {
			fill(buf, w, INITIAL, b);
			if (write(fd, buf, BLK) != BLK)
				die("write");
		}
		if (fsync(fd))
			die("fsync");
		close(fd);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd))
		die("fsync dir");
	close(fd);
	memset(buf, 0, BLK);
	for (w = 0; w < WRITERS; w++)
		if (pwrite(log_fd, buf, BLK, w * BLK) != BLK)
			die("log clear");
}

static void run(void)
{
	pthread_t t[WRITERS];
	unsigned int w;
	FILE *f;
	int armed = 0, s;
	u64 d[WRITERS];

	for (w = 0; w < WRITERS; w++)
		if (pthread_create(&t[w], NULL, w == 2 ? file_writer : block_writer,
				   (void *)(uintptr_t)w))
			die("pthread_create");
	for (s = 0; s < RUN_LIMIT * 10; s++) {
		usleep(100000);
		for (w = 0; w < WRITERS; w++)
			d[w] = __atomic_load_n(&done_ops[w], __ATOMIC_RELAXED);
		if (!armed && d[0] && d[1] && d[2]) {
			armed = 1;
			f = fopen("/tmp/crash.running", "w");
			if (!f || fputs("running\n", f) < 0 || fclose(f))
				die("/tmp/crash.running");
		}
		if (s % 20 == 19)
			printf("# done: fdatasync %llu, O_DSYNC %llu, renamed files %llu\n",
			       (unsigned long long)d[0], (unsigned long long)d[1],
			       (unsigned long long)d[2]);
		fflush(stdout);
	}
	printf("# _crashload: not killed within %d s\n", RUN_LIMIT);
	exit(1);
}

static int verify_blocks(unsigned int w)
{
	u64 done = log_read(w), op, last[FILE_BLOCKS];
	u32 blocks[8], next[8];
	char *got = xalloc(BLK), *want = xalloc(BLK), *alt = xalloc(BLK);
	const struct data_hdr *h = (const void *)got;
	unsigned int n, nn, i, b, bad = 0;
	int fd = open_in(w ? "dsync" : "buf", O_RDONLY);
	int in_next;

	for (b = 0; b < FILE_BLOCKS; b++)
		last[b] = INITIAL;
	for (op = 0; op < done; op++) {
		n = op_blocks(w, op, blocks);
		for (i = 0; i < n; i++)
			last[blocks[i]] = op;
	}
	nn = op_blocks(w, done, next);
	for (b = 0; b < FILE_BLOCKS; b++) {
		if (pread(fd, got, BLK, (off_t)b * BLK) != BLK)
			die("read");
		fill(want, w, last[b], b);
		if (!memcmp(got, want, BLK))
			continue;
		in_next = 0;
		for (i = 0; i < nn; i++)
			in_next |= next[i] == b;
		if (in_next) {
			fill(alt, w, done, b);
			if (!memcmp(got, alt, BLK))
				continue;
		}
		if (bad++ < 10)
			printf("# %s block %u: wanted operation %lld%s, found "
			       "magic %#llx seed %llu writer %u op %lld block %u\n",
			       w ? "dsync" : "buf", b, (long long)last[b],
			       in_next ? " or the next" : "",
			       (unsigned long long)h->magic,
			       (unsigned long long)h->seed, h->writer,
			       (long long)h->op, h->block);
	}
	printf("# writer %u (%s): %llu operations acknowledged, %u blocks wrong\n",
	       w, w ? "O_DSYNC" : "fdatasync", (unsigned long long)done, bad);
	close(fd);
	free(got);
	free(want);
	free(alt);
	return bad || !done;
}

/* 0 when f.@op is absent, 1 when complete and right, -1 otherwise. */
static int file_state(u64 op)
{
	char name[64], p[512], *got = xalloc(BLK), *want = xalloc(BLK);
	unsigned int n = file_blocks(op), i;
	struct stat st;
	int fd, ret = 1;

	snprintf(name, sizeof(name), "f.%llu", (unsigned long long)op);
	path_of(p, sizeof(p), name);
	fd = open(p, O_RDONLY);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (fstat(fd, &st) || st.st_size != (off_t)n * BLK)
		ret = -1;
	for (i = 0; ret == 1 && i < n; i++) {
		fill(want, 2, op, i);
		if (pread(fd, got, BLK, (off_t)i * BLK) != BLK ||
		    memcmp(got, want, BLK))
			ret = -1;
	}
	close(fd);
out:
	free(got);
	free(want);
	return ret;
}

static int verify_files(void)
{
	u64 done = log_read(2), op, max = 0;
	unsigned int bad = 0;
	char name[64], p[512];
	int st, want;
	struct stat sb;

	for (op = 0; op <= done; op++) {
		st = file_state(op);
		if (op + KEEP_FILES < done)
			want = 0;		/* unlinked by an acknowledged operation */
		else if (op + KEEP_FILES == done || op == done)
			want = st >= 0 ? st : 1;	/* either */
		else
			want = 1;
		if (st != want) {
			bad++;
			printf("# f.%llu: %s, wanted %s\n", (unsigned long long)op,
			       st < 0 ? "wrong size or contents" :
			       st ? "present" : "absent",
			       want ? "present and complete" : "absent");
		}
	}
	/* No file of an operation never issued (a few past the end). */
	for (op = done + 1; op < done + 1000; op++) {
		snprintf(name, sizeof(name), "f.%llu", (unsigned long long)op);
		path_of(p, sizeof(p), name);
		if (!stat(p, &sb)) {
			bad++;
			max = op;
		}
	}
	if (max)
		printf("# f.%llu exists though never made\n",
		       (unsigned long long)max);
	printf("# writer 2 (fsync, rename): %llu operations acknowledged, %u files wrong\n",
	       (unsigned long long)done, bad);
	return bad || !done;
}

int main(int argc, char **argv)
{
	const char *s = getenv("VS_SEED");
	int ret = 0;

	if (argc != 4 || !s) {
		fprintf(stderr, "usage: VS_SEED=N %s prepare|run|verify DIR LOG\n",
			argv[0]);
		return 2;
	}
	seed = strtoull(s, NULL, 0);
	dir = argv[2];
	log_fd = open(argv[3], O_RDWR | O_DIRECT | O_DSYNC);
	if (log_fd < 0)
		die(argv[3]);
	if (!strcmp(argv[1], "prepare")) {
		prepare();
	} else if (!strcmp(argv[1], "run")) {
		run();
	} else if (!strcmp(argv[1], "verify")) {
		ret |= verify_blocks(0);
		ret |= verify_blocks(1);
		ret |= verify_files();
	} else {
		return 2;
	}
	return ret;
}

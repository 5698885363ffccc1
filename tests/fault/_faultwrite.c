// SPDX-License-Identifier: GPL-2.0
/*
 * _faultwrite - stamp a range of a device with the kernel's fault
 * injection aimed at the writes alone.
 *
 *   _faultwrite DEV START LEN GEN PIECE [--buffered] [--fail]
 *
 * Writes generation GEN (lib/stamp.h, seed $VS_SEED as _vsdata uses) to
 * [START, START+LEN) of DEV in PIECE-byte writes, then fdatasync()s. With
 * --fail the task's /proc/self/make-it-fail is 1 during each write(2)
 * call and only then: the stamping of the buffer (page faults) and the
 * final flush run without injected failures, so what fails is the write's
 * way through the block layer and volsnap. Without --buffered the device
 * is opened O_DIRECT; a PIECE of 16 KiB or less keeps the block layer's
 * own direct-I/O path free of fallible allocations (inline bio_vecs).
 * With --buffered the writes go through the page cache (for a memory
 * cgroup limit). Prints "written N pieces"; on a failed write, the
 * errno name and the offset, and exits 1. Exit 2: usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stamp.h"

static int parse_size(const char *s, u64 *out)
{
	static const char units[] = "KMG";
	char *end, *unit;
	unsigned long long v = strtoull(s, &end, 0);

	unit = *end ? strchr(units, *end & ~0x20) : NULL;
	if (unit) {
		v <<= 10 * (unit - units + 1);
		end++;
	}
	if (*end || end == s || v % STAMP_SECTOR)
		return -1;
	*out = v;
	return 0;
}

static u32 seed(void)
{
	const char *env = getenv("VS_SEED");

	return env && *env ? (u32)strtoul(env, NULL, 0) : 0x600d5eed;
}

/* Set the task's make-it-fail flag through the open @fd. */
static int make_it_fail(int fd, int on)
{
	return pwrite(fd, on ? "1" : "0", 1, 0) == 1 ? 0 : -1;
}

static int bad_usage(void)
{
	fprintf(stderr, "usage: _faultwrite DEV START LEN GEN PIECE "
		"[--buffered] [--fail]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int flags = O_RDWR | O_CLOEXEC | O_DIRECT, fd, fail_fd = -1, i, err;
	u64 start, len, piece, done = 0;
	unsigned long pieces = 0;
	bool fail = false;
	u32 gen;
	void *buf;

	if (argc < 6 || parse_size(argv[2], &start) ||
	    parse_size(argv[3], &len) || parse_size(argv[5], &piece) || !piece)
		return bad_usage();
	gen = strtoul(argv[4], NULL, 0);
	for (i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--buffered"))
			flags &= ~O_DIRECT;
		else if (!strcmp(argv[i], "--fail"))
			fail = true;
		else
			return bad_usage();
	}
	buf = stamp_alloc(piece);
	fd = open(argv[1], flags);
	if (!buf || fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (fail) {
		fail_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (fail_fd < 0) {
			perror("/proc/self/make-it-fail");
			return 1;
		}
	}
	while (done < len) {
		u64 n = len - done < piece ? len - done : piece;
		ssize_t r;

		stamp_buf(buf, (start + done) >> STAMP_SHIFT, n >> STAMP_SHIFT,
			  gen, seed());
		if (fail && make_it_fail(fail_fd, 1))
			break;
		r = pwrite(fd, buf, n, (off_t)(start + done));
		err = errno;
		if (fail && make_it_fail(fail_fd, 0))
			break;
		if (r != (ssize_t)n) {
			printf("%s at %llu\n", r < 0 ? strerror(err) : "short write",
			       (unsigned long long)(start + done));
			return 1;
		}
		done += n;
		pieces++;
	}
	if (done < len) {
		perror("/proc/self/make-it-fail");
		return 1;
	}
	if (fdatasync(fd)) {
		printf("fdatasync: %s\n", strerror(errno));
		return 1;
	}
	printf("written %lu pieces\n", pieces);
	return 0;
}

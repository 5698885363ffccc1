// SPDX-License-Identifier: GPL-2.0
/*
 * _vsdata - the stamp library (lib/stamp.h) as a command for shell tests.
 * The leading underscore keeps the runner from taking it for a test; shell
 * tests call it as ../stamp/_vsdata.
 *
 *   _vsdata fill DEV START LEN GEN        stamp [START, START+LEN) with GEN
 *   _vsdata verify DEV START LEN GEN [--or-zero]
 *                                         every sector holds GEN (or zeros)
 *   _vsdata read DEV START LEN            read it; print "ok" or the errno
 *                                         name (EIO, ...)
 *   _vsdata try-write DEV                 try to open DEV for writing and to
 *                                         rewrite its first 4 KiB in place;
 *                                         print "open:ERRNO", "write:ERRNO"
 *                                         or "written"
 *   _vsdata churn DEV START LEN SECONDS GEN0
 *                                         random stamped writes (512 B to
 *                                         1 MiB, generations from GEN0 up)
 *                                         for SECONDS, then verify the range
 *                                         holds exactly what was written
 *   _vsdata hold DEV START LEN SECONDS    open DEV once, print "open", then
 *                                         read 64 KiB at random places in
 *                                         [START, START+LEN) through that one
 *                                         file until SECONDS pass ("ok") or
 *                                         a read fails (its errno name, or
 *                                         "EOF" for a read of 0 bytes)
 *   _vsdata holds FILE START LEN GEN      FILE (a device or a store file,
 *                                         read whole) holds, somewhere,
 *                                         the stamp of generation GEN of
 *                                         every sector of [START,
 *                                         START+LEN); print "ok" or how
 *                                         many are missing
 *   _vsdata nocap CMD [ARGS]              run CMD as root without
 *                                         CAP_SYS_ADMIN (dropped from the
 *                                         bounding set too, so exec does not
 *                                         give it back)
 *   _vsdata nobody CMD [ARGS]             run CMD as user and group 65534
 *
 * (The guest's setpriv is busybox's, without --bounding-set or --reuid.)
 *
 * START and LEN take K, M, G suffixes and must be multiples of 512. The
 * stamps' seed is $VS_SEED (same value for the fill and the verify), or a
 * fixed default. Exit: 0 ok / as expected, 1 mismatch or I/O failure,
 * 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "stamp.h"
#include "vsops.h"

static const char *errname(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case ENOSPC: return "ENOSPC";
	case EAGAIN: return "EAGAIN";
	case ENODATA: return "ENODATA";
	default: return "E?";
	}
}

static int bad_usage(void)
{
	fprintf(stderr,
		"usage: _vsdata fill DEV START LEN GEN\n"
		"       _vsdata verify DEV START LEN GEN [--or-zero]\n"
		"       _vsdata read DEV START LEN\n"
		"       _vsdata try-write DEV\n"
		"       _vsdata churn DEV START LEN SECONDS GEN0\n"
		"       _vsdata hold DEV START LEN SECONDS\n"
		"       _vsdata holds FILE START LEN GEN\n"
		"       _vsdata nocap CMD [ARGS]\n"
		"       _vsdata nobody CMD [ARGS]\n");
	return 2;
}

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

static int open_dev(const char *dev, int flags)
{
	int fd = open(dev, flags | O_DIRECT | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "_vsdata: %s: %s (%s)\n", dev, strerror(errno),
			errname(errno));
	return fd;
}

static int cmd_fill(const char *dev, u64 start, u64 len,
		    u32 gen)
{
	int fd = open_dev(dev, O_RDWR);
	int ret;

	if (fd < 0)
		return 1;
	ret = stamp_write(fd, start >> STAMP_SHIFT, len >> STAMP_SHIFT, gen,
			  seed());
	if (!ret && fdatasync(fd))
		ret = -errno;
	close(fd);
	if (ret) {
		fprintf(stderr, "_vsdata: fill %s: %s (%s)\n", dev,
			strerror(-ret), errname(-ret));
		return 1;
	}
	return 0;
}

static int cmd_verify(const char *dev, u64 start, u64 len,
		      u32 gen)
{
	int fd = open_dev(dev, O_RDONLY);
	long bad;

	if (fd < 0)
		return 1;
	bad = stamp_verify(fd, start >> STAMP_SHIFT, len >> STAMP_SHIFT, NULL,
			   gen, seed(), dev);
	close(fd);
	if (bad < 0) {
		printf("%s\n", errname((int)-bad));
		return 1;
	}
	return bad ? 1 : 0;
}

static int cmd_read(const char *dev, u64 start, u64 len)
{
	size_t bytes = len < STAMP_IO_MAX ? len : STAMP_IO_MAX;
	void *buf = stamp_alloc(bytes);
	int fd = open_dev(dev, O_RDONLY);
	u64 done = 0;
	int err = 0;

	if (fd < 0 || !buf) {
		printf("%s\n", fd < 0 ? "open-failed" : "ENOMEM");
		free(buf);
		return 1;
	}
	while (done < len && !err) {
		size_t n = len - done < bytes ? len - done : bytes;
		ssize_t r = pread(fd, buf, n, (off_t)(start + done));

		if (r < 0)
			err = errno;
		else if ((size_t)r != n)
			err = EIO;
		done += n;
	}
	close(fd);
	free(buf);
	printf("%s\n", err ? errname(err) : "ok");
	return err ? 1 : 0;
}

static int cmd_hold(const char *dev, u64 start, u64 len,
		    unsigned int seconds)
{
	size_t bytes = 64 * 1024;
	u64 end = vs_now_ns() + seconds * 1000000000ULL;
	void *buf = stamp_alloc(bytes);
	int fd = open_dev(dev, O_RDONLY);
	struct stamp_rng rng;
	const char *what = "ok";

	if (fd < 0 || !buf || len < bytes) {
		printf("%s\n", fd < 0 ? "open-failed" : "usage");
		free(buf);
		return 1;
	}
	printf("open\n");
	fflush(stdout);
	stamp_rng_init(&rng, seed());
	while (vs_now_ns() < end) {
		off_t at = start + stamp_rng_range(&rng, 0, len / bytes - 1) * bytes;
		ssize_t r = pread(fd, buf, bytes, at);

		if (r < 0) {
			what = errname(errno);
			break;
		}
		if (r == 0) {
			what = "EOF";
			break;
		}
	}
	close(fd);
	free(buf);
	printf("%s\n", what);
	return strcmp(what, "ok") ? 1 : 0;
}

static int cmd_try_write(const char *dev)
{
	void *buf = stamp_alloc(4096);
	int fd, ret = 1;

	if (!buf)
		return 1;
	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		printf("open:%s\n", errname(errno));
		free(buf);
		return 0;
	}
	/* Rewrite what is there, so a wrongly writable device keeps its data. */
	if (pread(fd, buf, 4096, 0) != 4096) {
		printf("read:%s\n", errname(errno));
	} else if (pwrite(fd, buf, 4096, 0) < 0) {
		printf("write:%s\n", errname(errno));
		ret = 0;
	} else if (fsync(fd)) {
		printf("write:%s\n", errname(errno));
		ret = 0;
	} else {
		printf("written\n");
		ret = 0;
	}
	close(fd);
	free(buf);
	return ret;
}

static int cmd_churn(const char *dev, u64 start, u64 len,
		     unsigned int seconds, u32 gen)
{
	u64 first = start >> STAMP_SHIFT, nsect = len >> STAMP_SHIFT;
	u64 deadline = vs_now_ns() + seconds * 1000000000ULL;
	u32 *map = calloc(nsect, sizeof(*map));
	unsigned long writes = 0;
	struct stamp_rng rng;
	int fd, ret = 0;
	long bad;

	if (!map)
		return 1;
	fd = open_dev(dev, O_RDWR);
	if (fd < 0) {
		free(map);
		return 1;
	}
	/* The range starts out as generation gen everywhere. */
	ret = stamp_write(fd, first, nsect, gen, seed());
	stamp_map_set(map, 0, nsect, gen);
	stamp_rng_init(&rng, seed() ^ first);
	while (!ret && vs_now_ns() < deadline) {
		u64 n = stamp_rng_range(&rng, 1, 2048);
		u64 at;

		if (stamp_rng_next(&rng) & 1)
			n = stamp_rng_range(&rng, 1, 16);
		if (n > nsect)
			n = nsect;
		at = stamp_rng_range(&rng, 0, nsect - n);
		gen++;
		ret = stamp_write(fd, first + at, n, gen, seed());
		stamp_map_set(map, at, n, gen);
		writes++;
	}
	if (ret) {
		fprintf(stderr, "_vsdata: churn %s: write failed: %s (%s)\n",
			dev, strerror(-ret), errname(-ret));
		close(fd);
		free(map);
		return 1;
	}
	bad = stamp_verify(fd, first, nsect, map, 0, seed(), dev);
	close(fd);
	free(map);
	printf("churn: %lu writes, last gen %u, %s\n", writes, gen,
	       bad ? "MISMATCH" : "exact");
	return bad ? 1 : 0;
}

static int run_nocap(char **argv)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_ADMIN);
	u32 bit = CAP_TO_MASK(CAP_SYS_ADMIN);

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) ||
	    syscall(SYS_capget, &hdr, data))
		goto fail;
	data[i].effective &= ~bit;
	data[i].permitted &= ~bit;
	data[i].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		goto fail;
	execvp(argv[0], argv);
fail:
	fprintf(stderr, "_vsdata: nocap %s: %s\n", argv[0], strerror(errno));
	return 127;
}

static int run_nobody(char **argv)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		goto fail;
	execvp(argv[0], argv);
fail:
	fprintf(stderr, "_vsdata: nobody %s: %s\n", argv[0], strerror(errno));
	return 127;
}

/*
 * Does @path hold, at any place, the stamp of @gen of every sector of
 * [@start, @start + @len)? (A shadow store holds copies of origin
 * sectors, stamped with their origin offsets, wherever it put them.)
 */
static int cmd_holds(const char *path, u64 start, u64 len, u32 gen)
{
	u64 first = start >> STAMP_SHIFT, n = len >> STAMP_SHIFT, missing = 0, i;
	unsigned char *seen = calloc(n ? n : 1, 1);
	char *buf = stamp_alloc(STAMP_IO_MAX);
	struct stamp_found f;
	int fd = open_dev(path, O_RDONLY);
	ssize_t got, off;

	if (fd < 0 || !seen || !buf)
		return 1;
	while ((got = read(fd, buf, STAMP_IO_MAX)) > 0) {
		for (off = 0; off + STAMP_SECTOR <= got; off += STAMP_SECTOR) {
			stamp_decode(buf + off, seed(), &f);
			if (f.kind == STAMP_OK && f.gen == gen &&
			    f.sector >= first && f.sector < first + n)
				seen[f.sector - first] = 1;
		}
	}
	if (got < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	for (i = 0; i < n; i++)
		missing += !seen[i];
	if (missing)
		printf("%llu of %llu sectors missing\n",
		       (unsigned long long)missing, (unsigned long long)n);
	else
		printf("ok\n");
	close(fd);
	free(buf);
	free(seen);
	return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
	u64 start, len;
	const char *cmd;

	if (argc < 3)
		return bad_usage();
	cmd = argv[1];
	if (!strcmp(cmd, "nocap"))
		return run_nocap(argv + 2);
	if (!strcmp(cmd, "nobody"))
		return run_nobody(argv + 2);
	if (!strcmp(cmd, "try-write") && argc == 3)
		return cmd_try_write(argv[2]);
	if (argc < 5 || parse_size(argv[3], &start) || parse_size(argv[4], &len))
		return bad_usage();
	if (!strcmp(cmd, "read") && argc == 5)
		return cmd_read(argv[2], start, len);
	if (!strcmp(cmd, "fill") && argc == 6)
		return cmd_fill(argv[2], start, len, strtoul(argv[5], NULL, 0));
	if (!strcmp(cmd, "verify") && (argc == 6 || argc == 7)) {
		u32 gen = strtoul(argv[5], NULL, 0);

		if (argc == 7) {
			if (strcmp(argv[6], "--or-zero"))
				return bad_usage();
			gen |= STAMP_OR_ZERO;
		}
		return cmd_verify(argv[2], start, len, gen);
	}
	if (!strcmp(cmd, "holds") && argc == 6)
		return cmd_holds(argv[2], start, len, strtoul(argv[5], NULL, 0));
	if (!strcmp(cmd, "hold") && argc == 6)
		return cmd_hold(argv[2], start, len, strtoul(argv[5], NULL, 0));
	if (!strcmp(cmd, "churn") && argc == 7)
		return cmd_churn(argv[2], start, len, strtoul(argv[5], NULL, 0),
				 strtoul(argv[6], NULL, 0));
	return bad_usage();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * _faultread - read an image over and over through one open descriptor.
 *
 *   _faultread DEV LEN GEN STOPFILE
 *
 * Opens DEV once (O_DIRECT) and verifies [0, LEN) against generation GEN
 * (lib/stamp.h, seed $VS_SEED) again and again, until a read fails or
 * STOPFILE exists. Prints "N exact passes, then ERRNO" (EIO, ...) or
 * "N exact passes, stopped". Exit: 0 when the passes were exact (whatever
 * ended them), 1 on a mismatch (the wrong data is described), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stamp.h"

static u32 seed(void)
{
	const char *env = getenv("VS_SEED");

	return env && *env ? (u32)strtoul(env, NULL, 0) : 0x600d5eed;
}

static const char *errname(int err)
{
	switch (err) {
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case ENODEV: return "ENODEV";
	default: return strerror(err);
	}
}

int main(int argc, char **argv)
{
	unsigned long passes = 0;
	unsigned long long len;
	char *end;
	long bad;
	int fd;

	if (argc != 5)
		goto usage;
	len = strtoull(argv[2], &end, 0);
	if (*end == 'M')
		len <<= 20;
	else if (*end == 'K')
		len <<= 10;
	if (!len || len % STAMP_SECTOR)
		goto usage;
	fd = open(argv[1], O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	for (;;) {
		if (!access(argv[4], F_OK)) {
			printf("%lu exact passes, stopped\n", passes);
			return 0;
		}
		bad = stamp_verify(fd, 0, len >> STAMP_SHIFT, NULL,
				   strtoul(argv[3], NULL, 0), seed(), argv[1]);
		if (bad > 0) {
			printf("%lu exact passes, then a MISMATCH\n", passes);
			return 1;
		}
		if (bad < 0) {
			printf("%lu exact passes, then %s\n", passes,
			       errname((int)-bad));
			return 0;
		}
		passes++;
	}
usage:
	fprintf(stderr, "usage: _faultread DEV LEN GEN STOPFILE\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - diff: the byte extents that changed between two points in time
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapctl.h"

static int do_diff(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snap_ref from, to;
	struct snap_diff d;
	const char *later;
	bool now;
	size_t i;
	int fd, ret;

	while (cmd_getopt(cmd, argc, argv, "J", longopts) != -1)
		opts.json = true;
	if (cmd_nargs(cmd, argc, argv, 2, 2))
		return EXIT_USAGE;
	later = argv[optind + 1];
	now = !strcmp(later, "now");
	if (image_index(argv[optind]) < 0)
		return cmd_usage(cmd, "'%s' is not an image device /dev/volsnapN",
				 argv[optind]);
	if (!now && image_index(later) < 0)
		return cmd_usage(cmd, "'%s' is neither an image device /dev/volsnapN nor 'now'",
				 later);

	fd = ctl_open();
	if (snap_lookup(fd, argv[optind], &from) ||
	    (!now && snap_lookup(fd, later, &to))) {
		close(fd);
		return EXIT_FAIL;
	}
	if (!now && to.origin != from.origin) {
		errx_errno(0, "%s, %s: snapshots of different origins", from.image,
			   to.image);
		close(fd);
		return EXIT_FAIL;
	}
	if (!now && to.info.id < from.info.id) {
		errx_errno(0, "%s is older than %s: give the older snapshot first",
			   to.image, from.image);
		close(fd);
		return EXIT_FAIL;
	}

	ret = snap_diff(fd, &from, now ? NULL : &to, &d);
	close(fd);
	if (ret) {
		char *origin = dev_name(from.origin);
		const struct errmsg errs[] = {
			{ ENODEV, "origin detached meanwhile" },
			{ ENOENT, "snapshot deleted meanwhile" },
			{ ESTALE, "a snapshot is invalid: what changed is not known" },
			{ EINVAL, "not the older snapshot first" },
			{ 0, NULL },
		};

		ctl_error(ret, origin, errs, "cannot compute the changes");
		free(origin);
		return EXIT_FAIL;
	}

	if (opts.json) {
		printf("{\"from\": ");
		json_string(from.image);
		printf(", \"to\": ");
		json_string(now ? "now" : to.image);
		printf(", \"chunk_size\": %u, \"from_size\": %llu", d.chunk_size,
		       d.from_bytes);
		printf(", \"to_size\": %llu, \"changed\": %llu, \"extents\": [",
		       d.to_bytes, d.total);
		for (i = 0; i < d.nr; i++)
			printf("%s{\"offset\": %llu, \"length\": %llu}",
			       i ? ", " : "", d.ext[i].offset, d.ext[i].length);
		printf("]}\n");
	} else {
		for (i = 0; i < d.nr; i++)
			printf("%llu %llu\n", d.ext[i].offset, d.ext[i].length);
	}
	free(d.ext);
	return EXIT_OK;
}

const struct command cmd_diff = {
	.name = "diff",
	.fn = do_diff,
	.args = "FROM {TO | now} [-J]",
	.summary = "the byte extents that changed between two snapshots, or since one",
	.help =
	"FROM and TO are image devices /dev/volsnapN of one origin, FROM the\n"
	"older; 'now' compares FROM with the live origin. Prints one extent per\n"
	"line, 'OFFSET LENGTH' in bytes, ascending, adjacent ones merged.\n"
	"\n"
	"Computed by the module from the copies it made, without reading data,\n"
	"at chunk granularity: every byte that differs lies in a listed extent,\n"
	"and a chunk is listed only if it was written in between (it may hold\n"
	"the same data again). Where TO is larger than FROM (the origin grew),\n"
	"everything beyond FROM's size is one more extent. Both snapshots must\n"
	"be valid.\n"
	"\n"
	"Options:\n"
	"  -J, --json   one object: from, to, chunk_size, from_size, to_size,\n"
	"               changed (bytes in all extents) and extents, a list of\n"
	"               {offset, length} in bytes\n"
	"  -h, --help   show this help and exit\n",
};

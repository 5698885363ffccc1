// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - writable: let a snapshot's image accept writes
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "snapctl.h"

static int do_writable(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_writable w = { 0 };
	struct snap_ref ref;
	int fd, ret;

	while (cmd_getopt(cmd, argc, argv, "", longopts) != -1)
		;
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	if (image_index(argv[optind]) < 0)
		return cmd_usage(cmd, "'%s' is not an image device /dev/volsnapN",
				 argv[optind]);
	fd = ctl_open();
	if (snap_lookup(fd, argv[optind], &ref)) {
		close(fd);
		return EXIT_FAIL;
	}
	w.major = major(ref.origin);
	w.minor = minor(ref.origin);
	w.id = ref.info.id;
	ret = ctl_ioctl(fd, VOLSNAP_IOC_WRITABLE, &w);
	close(fd);
	if (ret) {
		const struct errmsg errs[] = {
			{ ENODEV, "origin detached meanwhile" },
			{ ENOENT, "snapshot deleted meanwhile" },
			{ ESTALE, "the snapshot is invalid" },
			{ EBUSY, "a revert writes it back (finish it first)" },
			{ 0, NULL },
		};

		ctl_error(ret, ref.image, errs, "cannot make it writable");
	} else {
		printf("%s (snapshot %u) is writable\n", ref.image, ref.info.id);
	}
	free(ref.image);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const struct command cmd_writable = {
	.name = "writable",
	.fn = do_writable,
	.args = "/dev/volsnapN",
	.summary = "let a snapshot's image accept writes, kept apart from the origin",
	.help =
	"From now on the image /dev/volsnapN accepts writes, for tests or data\n"
	"mining on a copy: mount its filesystem read-write (ext4 and xfs replay\n"
	"their journals on it), change it. The writes go to the store and belong\n"
	"to this image alone: the origin and the other snapshots never see\n"
	"them. The first write to a chunk takes one store chunk, filled with\n"
	"what the image read there; when the store is full, image writes fail\n"
	"with ENOSPC (writes to the origin never do). STORE_USED counts these\n"
	"chunks; deleting the snapshot frees them.\n"
	"\n"
	"A writable snapshot cannot become read-only again, has no changed-chunk\n"
	"list ('snapctl diff' refuses it) and cannot be reverted to. Nothing of\n"
	"it survives a detach. 'snapctl create --writable' makes a snapshot\n"
	"writable from the start.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help and exit\n",
};

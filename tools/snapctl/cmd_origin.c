// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - origins: attach, detach, status
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "snapctl.h"

static const struct errmsg attach_errors[] = {
	{ EBUSY, "already attached, or store busy" },
	{ EINVAL, "store is or overlaps the origin, has larger blocks than it, or bad chunk size" },
	{ EXDEV, "the disk has partitions: attach a partition" },
	{ ELOOP, "store and origin are stacked on one another (dm, md, loop file)" },
	{ ENOTBLK, "not a block device" },
	{ 0, NULL },
};

/* Open a block device argument read-only for VOLSNAP_IOC_ATTACH. */
static int open_dev(const char *path, dev_t *devno)
{
	int fd;

	if (dev_lookup(path, devno))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		errx_errno(errno, "%s", path);
	return fd;
}

static int do_attach(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store",      required_argument, NULL, 's' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_attach at = { 0 };
	const char *origin, *store = NULL, *chunk = NULL;
	unsigned long long size = VOLSNAP_CHUNK_DEFAULT;
	char *oname, *sname, sizebuf[32];
	int c, fd, ofd, sfd, ret;
	dev_t odev, sdev;

	while ((c = cmd_getopt(cmd, argc, argv, "s:c:", longopts)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'c':
			chunk = optarg;
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	origin = argv[optind];
	if (!store)
		return cmd_usage(cmd, "--store STORE is required");
	if (chunk) {
		if (parse_size(chunk, &size) || size < VOLSNAP_CHUNK_MIN ||
		    size > VOLSNAP_CHUNK_MAX || (size & (size - 1)))
			return cmd_usage(cmd, "invalid chunk size '%s': "
					 "need a power of two from 4K to 1M", chunk);
		at.chunk_size = size;
	}

	ofd = open_dev(origin, &odev);
	if (ofd < 0)
		return EXIT_FAIL;
	sfd = open_dev(store, &sdev);
	if (sfd < 0) {
		close(ofd);
		return EXIT_FAIL;
	}
	at.origin_fd = ofd;
	at.store_fd = sfd;

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_ATTACH, &at);
	close(fd);
	if (ret == -ENOSPC) {
		ctl_error(ret, store, NULL, "store too small for its header and one chunk");
	} else if (ret) {
		ctl_error(ret, origin, attach_errors, "cannot attach");
	} else {
		oname = dev_name(odev);
		sname = dev_name(sdev);
		format_size(size, sizebuf, sizeof(sizebuf));
		printf("attached %s (store %s, chunk size %s)\n", oname, sname,
		       sizebuf);
		free(oname);
		free(sname);
	}
	close(sfd);
	close(ofd);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const struct command cmd_attach = {
	.name = "attach",
	.fn = do_attach,
	.args = "ORIGIN --store STORE [--chunk-size SIZE]",
	.summary = "start tracking ORIGIN, preserving overwritten data on STORE",
	.help =
	"Start tracking ORIGIN, a block device that may be mounted and in use.\n"
	"From the first snapshot on, the old content of every chunk written\n"
	"on ORIGIN is first copied to STORE, which the module keeps open\n"
	"exclusively until 'snapctl detach'.\n"
	"\n"
	"Options:\n"
	"  -s, --store STORE       the shadow store block device (required)\n"
	"  -c, --chunk-size SIZE   the copy-on-write unit: a power of two from\n"
	"                          4K to 1M (default 64K); bytes, or K or M\n"
	"                          for KiB or MiB, any case\n"
	"  -h, --help              show this help and exit\n",
};

static const struct errmsg detach_errors[] = {
	{ ENODEV, "not attached" },
	{ EBUSY, "snapshots exist (use --force to delete them)" },
	{ 0, NULL },
};

static const struct errmsg detach_force_errors[] = {
	{ ENODEV, "not attached" },
	{ 0, NULL },
};

static int do_detach(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help",  no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_origin_cmd oc = { 0 };
	const char *origin;
	dev_t devno;
	int c, fd, ret;
	char *name;

	while ((c = cmd_getopt(cmd, argc, argv, "f", longopts)) != -1)
		if (c == 'f')
			oc.flags |= VOLSNAP_DETACH_FORCE;
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	origin = argv[optind];
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;
	oc.major = major(devno);
	oc.minor = minor(devno);

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_DETACH, &oc);
	close(fd);
	if (ret) {
		ctl_error(ret, origin, oc.flags ? detach_force_errors : detach_errors,
			  "cannot detach");
		return EXIT_FAIL;
	}
	name = dev_name(devno);
	printf("detached %s\n", name);
	free(name);
	return EXIT_OK;
}

const struct command cmd_detach = {
	.name = "detach",
	.fn = do_detach,
	.args = "ORIGIN [--force]",
	.summary = "stop tracking ORIGIN and release its store",
	.help =
	"Stop tracking ORIGIN and release its store. Refused while ORIGIN has\n"
	"snapshots, unless --force is given.\n"
	"\n"
	"Options:\n"
	"  -f, --force   delete ORIGIN's snapshots first, even open ones\n"
	"  -h, --help    show this help and exit\n",
};

static const struct errmsg status_errors[] = {
	{ ENODEV, "not attached" },
	{ 0, NULL },
};

/* A key and an optional string as a JSON object member. */
static void json_member(const char *key, const char *value, bool last)
{
	printf("      \"%s\": ", key);
	if (value)
		json_string(value);
	else
		fputs("null", stdout);
	fputs(last ? "\n" : ",\n", stdout);
}

static void print_origin(const struct volsnap_origin_info *oi,
			 const char *name, const char *fstype,
			 const char *mountpoint, const char *store)
{
	unsigned long long size = oi->origin_sectors * 512;
	unsigned long long total = oi->store_chunks * oi->chunk_size;
	unsigned long long used = oi->store_used * oi->chunk_size;
	bool frozen = oi->state & VOLSNAP_ORIGIN_FROZEN;
	char buf[32];

	if (opts.json) {
		fputs("{\n   \"origin\": {\n", stdout);
		json_member("device", name, false);
		printf("      \"size\": %llu,\n", size);
		json_member("fstype", fstype, false);
		json_member("mountpoint", mountpoint, false);
		json_member("store", store, false);
		printf("      \"chunk-size\": %u,\n", oi->chunk_size);
		printf("      \"store-size\": %llu,\n", total);
		printf("      \"store-used\": %llu,\n", used);
		printf("      \"frozen\": %s,\n", frozen ? "true" : "false");
		printf("      \"snapshots\": %u\n   },", oi->nr_snapshots);
		return;
	}

	printf("origin: %s\n", name);
	format_size(size, buf, sizeof(buf));
	printf("size: %llu (%s)\n", size, buf);
	printf("fstype: %s\n", fstype ? fstype : "(none)");
	printf("mountpoint: %s\n", mountpoint ? mountpoint : "(not mounted)");
	printf("store: %s\n", store);
	format_size(oi->chunk_size, buf, sizeof(buf));
	printf("chunk size: %u (%s)\n", oi->chunk_size, buf);
	printf("store used: %llu of %llu bytes (%.1f%%)\n", used, total,
	       total ? 100.0 * used / total : 0.0);
	printf("state: %s\n", frozen ? "frozen" : "attached");
	if (oi->state & VOLSNAP_ORIGIN_TIMED_OUT)
		puts("last freeze: hold limit reached, thawed by the kernel");
	printf("snapshots: %u\n\n", oi->nr_snapshots);
}

static int do_status(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",       no_argument,       NULL, 'J' },
		{ "output",     required_argument, NULL, 'o' },
		{ "noheadings", no_argument,       NULL, 'n' },
		{ "raw",        no_argument,       NULL, 'r' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *name, *store, *fstype, *mountpoint, *members;
	struct volsnap_snapshot_info *snaps;
	struct volsnap_origin_info oi;
	struct libscols_table *tb;
	unsigned int i, count;
	const char *origin;
	int c, fd, ret;
	dev_t devno;

	while ((c = cmd_getopt(cmd, argc, argv, "Jo:nr", longopts)) != -1) {
		switch (c) {
		case 'J':
			opts.json = true;
			break;
		case 'o':
			if (output_set_columns(optarg))
				return cmd_usage(cmd, NULL);
			break;
		case 'n':
			opts.noheadings = true;
			break;
		case 'r':
			opts.raw = true;
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	origin = argv[optind];
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;

	fd = ctl_open();
	ret = ctl_status(fd, devno, &oi, &snaps, &count);
	close(fd);
	if (ret) {
		ctl_error(ret, origin, status_errors, "cannot get status");
		return EXIT_FAIL;
	}

	name = dev_name(devno);
	store = dev_name(makedev(oi.store_major, oi.store_minor));
	fstype = dev_fstype(origin);
	mountpoint = dev_mountpoint(devno);
	print_origin(&oi, name, fstype, mountpoint, store);

	tb = snaptab_new();
	for (i = 0; i < count; i++)
		snaptab_add(tb, name, &snaps[i]);
	if (opts.json) {
		members = snaptab_json_members(tb);
		printf("%s}\n", members);
		free(members);
		scols_unref_table(tb);
	} else {
		snaptab_print(tb);
	}

	free(mountpoint);
	free(fstype);
	free(store);
	free(name);
	free(snaps);
	return EXIT_OK;
}

const struct command cmd_status = {
	.name = "status",
	.fn = do_status,
	.args = "ORIGIN [-o COLS] [-n] [-r]",
	.summary = "show ORIGIN's store, state and snapshots",
	.help =
	"Show an attached origin: its size, filesystem and mount point, its\n"
	"store, chunk size and how much of the store is used, whether it is\n"
	"frozen, then its snapshots as 'snapctl list' shows them.\n"
	"\n"
	"Options:\n"
	"  -o, --output COLS  snapshot columns to show, separated by commas\n"
	"  -n, --noheadings   no header line in the snapshot table\n"
	"  -r, --raw          raw snapshot table, not aligned\n"
	"  -J, --json         JSON output\n"
	"  -h, --help         show this help and exit\n",
	.more_help = output_columns_help,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - snapshots: create, delete, list
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "snapctl.h"

static const struct errmsg create_errors[] = {
	{ ENODEV, "not attached" },
	{ EMLINK, "snapshot limit reached (delete a snapshot first)" },
	{ ETIMEDOUT, "hold limit reached, the origin was thawed" },
	{ EBUSY, "frozen (use --frozen, or thaw it first)" },
	{ EXDEV, "the whole-disk origin has partitions now: attach a partition" },
	{ ELOOP, "stacked on another member of the set, or its store is "
		 "(snapshot them in separate sets)" },
	{ 0, NULL },
};

static const struct errmsg create_frozen_errors[] = {
	{ ENODEV, "not attached" },
	{ EMLINK, "snapshot limit reached (delete a snapshot first)" },
	{ ETIMEDOUT, "hold limit reached, the origin was thawed" },
	{ EINVAL, "not frozen (run 'snapctl freeze' first)" },
	{ EXDEV, "the whole-disk origin has partitions now: attach a partition" },
	{ 0, NULL },
};

/**
 * create_print_set() - print what create made of a snapshot set
 * @cs: the set, as VOLSNAP_IOC_CREATE_SET filled it.
 * @m: its members.
 * @n: how many.
 */
void create_print_set(const struct volsnap_create_set *cs,
		      const struct volsnap_create *m, unsigned int n)
{
	unsigned long long ms, us;
	unsigned int i;

	ms = cs->hold_ns / 1000000;
	us = cs->hold_ns / 1000 % 1000;
	if (opts.json)
		printf("{\"set\": %llu, \"hold_ms\": %llu.%03llu, \"snapshots\": [",
		       (unsigned long long)cs->set_id, ms, us);
	else
		printf("snapshot set %llu (writes held %llu.%03llu ms):\n",
		       (unsigned long long)cs->set_id, ms, us);
	for (i = 0; i < n; i++) {
		char *name = dev_name(makedev(m[i].major, m[i].minor));
		char *image = image_name(m[i].image_index);

		if (opts.json) {
			fputs(i ? ", {\"origin\": " : "{\"origin\": ", stdout);
			json_string(name);
			printf(", \"id\": %u, \"device\": ", m[i].id);
			json_string(image);
			fputs("}", stdout);
		} else {
			printf("  snapshot %u of %s: %s\n", m[i].id, name, image);
		}
		free(image);
		free(name);
	}
	if (opts.json)
		fputs("]}\n", stdout);
}

/* create ORIGIN... with several origins: one snapshot set. */
static int create_set(const struct command *cmd, int argc, char **argv,
		      const struct writers *w, unsigned long long prepare_s)
{
	unsigned int i, j, n = argc - optind;
	struct volsnap_create_set cs = { 0 };
	struct volsnap_create *m;
	dev_t devs[VOLSNAP_SET_MAX];
	char why[128];
	int fd, ret;
	dev_t devno;

	if (n > VOLSNAP_SET_MAX)
		return cmd_usage(cmd, "a snapshot set has at most %d members, not %u",
				 VOLSNAP_SET_MAX, n);
	m = calloc(n, sizeof(*m));
	if (!m) {
		perror(prog);
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (dev_lookup(argv[optind + i], &devno)) {
			free(m);
			return EXIT_FAIL;
		}
		m[i].major = major(devno);
		m[i].minor = minor(devno);
		devs[i] = devno;
		for (j = 0; j < i; j++)
			if (m[j].major == m[i].major && m[j].minor == m[i].minor) {
				free(m);
				return cmd_usage(cmd, "%s and %s are one device: %s",
						 argv[optind + j], argv[optind + i],
						 "name each origin once");
			}
	}
	if (w->n) {
		free(m);
		return create_with_writers(w, devs, argv + optind, n, 0, prepare_s);
	}
	cs.count = n;
	cs.members = (uintptr_t)m;
	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_CREATE_SET, &cs);
	close(fd);
	if (ret == -EBUSY && cs.failed < n &&
	    revert_busy(makedev(m[cs.failed].major, m[cs.failed].minor), why,
			sizeof(why))) {
		errx_errno(EBUSY, "%s: %s", argv[optind + cs.failed], why);
		free(m);
		return EXIT_FAIL;
	}
	if (ret) {
		ctl_error(ret, cs.failed < n ? argv[optind + cs.failed] : "snapshot set",
			  create_errors,
			  "cannot create a snapshot set: no member has a new snapshot");
		free(m);
		return EXIT_FAIL;
	}

	create_print_set(&cs, m, n);
	free(m);
	return EXIT_OK;
}

/**
 * create_print_one() - print what create made of one origin
 * @cr: the snapshot, as VOLSNAP_IOC_CREATE filled it.
 * @devno: its origin.
 */
void create_print_one(const struct volsnap_create *cr, dev_t devno)
{
	unsigned long long ms, us;
	char *name, *image;

	name = dev_name(devno);
	image = image_name(cr->image_index);
	ms = cr->hold_ns / 1000000;
	us = cr->hold_ns / 1000 % 1000;
	if (opts.json) {
		fputs("{\"origin\": ", stdout);
		json_string(name);
		printf(", \"id\": %u, \"device\": ", cr->id);
		json_string(image);
		printf(", \"hold_ms\": %llu.%03llu, \"writable\": %s}\n", ms, us,
		       cr->flags & VOLSNAP_CREATE_WRITABLE ? "true" : "false");
	} else {
		printf("snapshot %u of %s: %s%s (writes held %llu.%03llu ms)\n",
		       cr->id, name, image,
		       cr->flags & VOLSNAP_CREATE_WRITABLE ? ", writable" : "", ms, us);
	}
	free(image);
	free(name);
}

static int do_create(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "frozen", no_argument, NULL, 'F' },
		{ "writable", no_argument, NULL, 'w' },
		{ "json",   no_argument, NULL, 'J' },
		{ "writers", required_argument, NULL, 'W' },
		{ "no-writers", no_argument, NULL, 'N' },
		{ "prepare-timeout", required_argument, NULL, 'P' },
		{ "help",   no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_create cr = { 0 };
	struct writers w = { .dir = WRITERS_DIR };
	unsigned long long prepare_s = WRITER_TIMEOUT_S;
	bool no_writers = false;
	char why[128];
	const char *origin;
	int c, fd, ret;
	dev_t devno;

	while ((c = cmd_getopt(cmd, argc, argv, "J", longopts)) != -1) {
		switch (c) {
		case 'F':
			cr.flags |= VOLSNAP_CREATE_FROZEN;
			break;
		case 'w':
			cr.flags |= VOLSNAP_CREATE_WRITABLE;
			break;
		case 'J':
			opts.json = true;
			break;
		case 'W':
			w.dir = optarg;
			w.explicit = true;
			break;
		case 'N':
			no_writers = true;
			break;
		case 'P':
			if (parse_seconds(optarg, &prepare_s))
				return cmd_usage(cmd, "invalid --prepare-timeout '%s' "
						 "(seconds, 1 to 86400)", optarg);
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 1, INT_MAX))
		return EXIT_USAGE;
	if (no_writers)
		w.dir = NULL;
	/* Writers belong to a freeze snapctl makes; --frozen's is the user's. */
	if (cr.flags & VOLSNAP_CREATE_FROZEN)
		w.dir = NULL;
	if (argc - optind > 1) {
		if (cr.flags)
			return cmd_usage(cmd, "--%s takes one ORIGIN",
					 cr.flags & VOLSNAP_CREATE_FROZEN ? "frozen" : "writable");
		if (writers_load(&w))
			return EXIT_FAIL;
		ret = create_set(cmd, argc, argv, &w, prepare_s);
		writers_free(&w);
		return ret;
	}
	origin = argv[optind];
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;
	if (writers_load(&w))
		return EXIT_FAIL;
	if (w.n) {
		ret = create_with_writers(&w, &devno, argv + optind, 1, cr.flags,
					  prepare_s);
		writers_free(&w);
		return ret;
	}
	cr.major = major(devno);
	cr.minor = minor(devno);

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_CREATE, &cr);
	close(fd);
	if (ret == -EBUSY && revert_busy(devno, why, sizeof(why))) {
		errx_errno(EBUSY, "%s: %s", origin, why);
		return EXIT_FAIL;
	}
	if (ret) {
		ctl_error(ret, origin, cr.flags & VOLSNAP_CREATE_FROZEN ?
			  create_frozen_errors : create_errors,
			  "cannot create a snapshot");
		return EXIT_FAIL;
	}

	create_print_one(&cr, devno);
	return EXIT_OK;
}

const struct command cmd_create = {
	.name = "create",
	.fn = do_create,
	.args = "ORIGIN... [--frozen] [--writable] [--writers DIR|--no-writers]"
		" [--prepare-timeout S]",
	.summary = "snapshot ORIGIN (each ORIGIN at one instant): /dev/volsnapN",
	.help =
	"Take a snapshot of an attached origin. Its filesystem is frozen,\n"
	"writes are held while the snapshot is switched in, then everything is\n"
	"thawed; the hold time is printed. The snapshot appears as the\n"
	"read-only block device /dev/volsnapN.\n"
	"\n"
	"With several origins (at most 32), one snapshot set: every filesystem\n"
	"is frozen and every origin's writes held, all snapshots switch at one\n"
	"instant, then all are thawed, within one hold limit. All or nothing:\n"
	"if any member fails, none keeps a new snapshot. The set's id is\n"
	"printed.\n"
	"\n"
	"Writers: every executable in the writers directory whose name has\n"
	"only letters, digits, '_' and '-' (so not name~, name.bak,\n"
	"name.dpkg-old) runs, in name order, with the event as its argument:\n"
	"  prepare  before the freeze (time limit --prepare-timeout)\n"
	"  freeze   inside the hold of one ORIGIN (for a set: just before the\n"
	"           set's one-call hold); all of them within the hold limit\n"
	"  thaw     after the snapshot or its failure, to those that got freeze\n"
	"  abort    when anything failed after prepare (a writer, the\n"
	"           snapshot, a signal), to those that got prepare\n"
	"Environment: VOLSNAP_EVENT, VOLSNAP_CREATE (this create's token),\n"
	"VOLSNAP_DEVICES and VOLSNAP_MOUNTS (\"-\" when not mounted), in the\n"
	"order given; from thaw on VOLSNAP_IMAGES, VOLSNAP_BACKUP (set-ID or\n"
	"volsnapN, as backup-complete names it) and, for a set, VOLSNAP_SET.\n"
	"A writer's output goes to standard error, prefixed with its name. One\n"
	"that fails or times out (it is killed) is named, and no snapshot is\n"
	"kept; SIGINT or SIGTERM does the same. Writers do not run with\n"
	"--frozen. See also 'snapctl backup-complete --help'.\n"
	"\n"
	"Options:\n"
	"  --frozen     ORIGIN (one) is already frozen by 'snapctl freeze': take\n"
	"               the snapshot inside that freeze and leave ORIGIN frozen\n"
	"  --writable   the image (of one ORIGIN) accepts writes: see\n"
	"               'snapctl writable --help'\n"
	"  --writers DIR  the writers directory (default " WRITERS_DIR ");\n"
	"               a missing default directory means no writers\n"
	"  --no-writers run no writers\n"
	"  --prepare-timeout S  each writer's time limit for prepare, thaw and\n"
	"               abort, in seconds (default 60)\n"
	"  -J, --json   JSON output\n"
	"  -h, --help   show this help and exit\n",
};

/*
 * delete --set ID: every snapshot of set @set, on whichever origin. One
 * that cannot be deleted (its image is open, without --force) is named;
 * the others are deleted all the same.
 */
static int delete_set(unsigned long long set, unsigned int flags)
{
	struct volsnap_origin_info *origins, oi;
	struct volsnap_snapshot_info *snaps;
	unsigned int i, j, nr, count, found = 0, failed = 0;
	int fd = ctl_open(), ret;

	ret = ctl_list(fd, &origins, &nr);
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, "cannot list the origins");
		close(fd);
		return EXIT_FAIL;
	}
	for (i = 0; i < nr; i++) {
		dev_t devno = makedev(origins[i].major, origins[i].minor);
		char *name;

		if (ctl_status(fd, devno, &oi, &snaps, &count))
			continue;	/* detached meanwhile */
		name = dev_name(devno);
		for (j = 0; j < count; j++) {
			struct volsnap_delete del = {
				.flags = flags,
				.major = origins[i].major,
				.minor = origins[i].minor,
				.id = snaps[j].id,
			};

			if (snaps[j].set_id != set)
				continue;
			found++;
			ret = ctl_ioctl(fd, VOLSNAP_IOC_DELETE, &del);
			if (!ret) {
				printf("deleted snapshot %u of %s\n", del.id, name);
				continue;
			}
			failed++;
			errx_errno(-ret, "%s: cannot delete snapshot %u of set %llu%s",
				   name, del.id, set, ret == -EBUSY && !flags ?
				   ": its image is open (use --force)" : "");
		}
		free(name);
		free(snaps);
	}
	free(origins);
	close(fd);
	if (!found)
		errx_errno(0, "no snapshot set %llu", set);
	return !found || failed ? EXIT_FAIL : EXIT_OK;
}

static int do_delete(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "set",   required_argument, NULL, 's' },
		{ "help",  no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *set = NULL;
	unsigned long long set_id;
	struct volsnap_delete del = { 0 };
	char noent[48], busy[160], why[128], *end, *name;
	struct snap_ref ref;
	const char *object;
	unsigned long id;
	int c, fd, ret;
	dev_t devno;
	long index;

	while ((c = cmd_getopt(cmd, argc, argv, "fs:", longopts)) != -1) {
		if (c == 'f')
			del.flags |= VOLSNAP_DELETE_FORCE;
		else if (c == 's')
			set = optarg;
	}
	if (set) {
		if (cmd_nargs(cmd, argc, argv, 0, 0))
			return EXIT_USAGE;
		errno = 0;
		set_id = strtoull(set, &end, 10);
		if (!isdigit((unsigned char)set[0]) || *end || errno || !set_id)
			return cmd_usage(cmd, "invalid snapshot set id '%s'", set);
		return delete_set(set_id, del.flags);
	}
	if (cmd_nargs(cmd, argc, argv, 1, 2))
		return EXIT_USAGE;
	object = argv[optind];

	if (argc - optind == 2) {
		errno = 0;
		id = strtoul(argv[optind + 1], &end, 10);
		if (!isdigit((unsigned char)argv[optind + 1][0]) || *end ||
		    errno || id > UINT_MAX)
			return cmd_usage(cmd, "invalid snapshot id '%s'",
					 argv[optind + 1]);
		if (dev_lookup(object, &devno))
			return EXIT_FAIL;
		fd = ctl_open();
	} else {
		index = image_index(object);
		if (index < 0)
			return cmd_usage(cmd, "'%s' is not an image device "
					 "/dev/volsnapN; give ORIGIN ID", object);
		fd = ctl_open();
		ret = snap_find(fd, index, &ref);
		if (ret) {
			if (ret == -ENOENT)
				errx_errno(0, "%s: no such snapshot", object);
			else
				ctl_error(ret, CTL_PATH, NULL, "cannot list snapshots");
			close(fd);
			return EXIT_FAIL;
		}
		devno = ref.origin;
		id = ref.info.id;
	}
	del.major = major(devno);
	del.minor = minor(devno);
	del.id = id;

	ret = ctl_ioctl(fd, VOLSNAP_IOC_DELETE, &del);
	close(fd);
	name = dev_name(devno);
	if (ret) {
		const struct errmsg errs[] = {
			{ ENODEV, "not attached" },
			{ ENOENT, noent },
			{ EBUSY, busy },
			{ 0, NULL },
		};

		snprintf(noent, sizeof(noent), "no snapshot %lu", id);
		snprintf(busy, sizeof(busy), "the image of snapshot %lu is open%s",
			 id, del.flags ? "" : " (use --force)");
		if (revert_busy(devno, why, sizeof(why)))
			snprintf(busy, sizeof(busy), "%s", why);
		ctl_error(ret, argc - optind == 2 ? object : name, errs,
			  "cannot delete the snapshot");
	} else {
		printf("deleted snapshot %lu of %s\n", id, name);
	}
	free(name);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const struct command cmd_delete = {
	.name = "delete",
	.fn = do_delete,
	.args = "{ORIGIN ID | /dev/volsnapN | --set SET} [--force]",
	.summary = "delete a snapshot, named by origin and id or by its image",
	.help =
	"Delete a snapshot and its image device. The snapshot is named by its\n"
	"origin and id, as 'snapctl list' shows them, or by its image device.\n"
	"Deleting copies no data; other snapshots are not affected.\n"
	"\n"
	"Options:\n"
	"  -s, --set SET delete every snapshot of snapshot set SET (as 'snapctl\n"
	"                list' shows it), on every origin; one that cannot be\n"
	"                deleted is named, the others are deleted\n"
	"  -f, --force   delete even when the image device is open\n"
	"  -h, --help    show this help and exit\n",
};

static const struct errmsg list_errors[] = {
	{ ENODEV, "not attached (see 'snapctl status' for the attached origins)" },
	{ 0, NULL },
};

static const int list_defaults[] = {
	COL_ORIGIN, COL_ID, COL_SET, COL_DEVICE, COL_CREATED, COL_STATE,
	COL_REASON, COL_CHUNKS, COL_ALONE, COL_SHARED, COL_FILL,
};

static const struct listing list_listing = {
	.command = "list",
	.table = "snapshots",
	.snapshots = true,
	.defaults = list_defaults,
	.ndefaults = ARRAY_SIZE(list_defaults),
};

/*
 * Add the snapshots of one origin, or one row for the origin alone when
 * it has none; -errno of VOLSNAP_IOC_STATUS.
 */
static int add_origin(int fd, struct libscols_table *tb, dev_t devno)
{
	struct volsnap_snapshot_info *snaps;
	struct volsnap_origin_info oi;
	struct origin_row row;
	unsigned int i, count;
	int ret;

	ret = ctl_status(fd, devno, &oi, &snaps, &count);
	if (ret)
		return ret;
	origin_row_init(&row, devno, &oi);
	for (i = 0; i < count; i++)
		output_add(tb, &row, &snaps[i]);
	if (!count)
		output_add(tb, &row, NULL);
	origin_row_free(&row);
	free(snaps);
	return 0;
}

static int do_list(const struct command *cmd, int argc, char **argv)
{
	struct volsnap_origin_info *origins;
	struct libscols_table *tb;
	const char *origin = NULL;
	unsigned int i, nr;
	int c, fd, ret;
	dev_t devno;

	while ((c = cmd_getopt(cmd, argc, argv, LISTING_SHORTOPTS,
			       listing_longopts)) != -1)
		listing_option(cmd, &list_listing, c);
	if (cmd_nargs(cmd, argc, argv, 0, 1))
		return EXIT_USAGE;
	if (optind < argc) {
		origin = argv[optind];
		if (dev_lookup(origin, &devno))
			return EXIT_FAIL;
	}

	fd = ctl_open();
	tb = output_new(&list_listing);
	if (origin) {
		ret = add_origin(fd, tb, devno);
		if (ret)
			ctl_error(ret, origin, list_errors, "cannot list its snapshots");
	} else {
		ret = ctl_list(fd, &origins, &nr);
		if (!ret) {
			for (i = 0; !ret && i < nr; i++) {
				devno = makedev(origins[i].major, origins[i].minor);
				ret = add_origin(fd, tb, devno);
				if (ret == -ENODEV)	/* detached meanwhile */
					ret = 0;
			}
			free(origins);
		}
		if (ret)
			ctl_error(ret, CTL_PATH, NULL, "cannot list the snapshots");
	}
	close(fd);
	if (ret) {
		scols_unref_table(tb);
		return EXIT_FAIL;
	}
	output_print(tb);
	return EXIT_OK;
}

static void list_columns_help(FILE *out)
{
	output_columns_help(&list_listing, out);
}

const struct command cmd_list = {
	.name = "list",
	.fn = do_list,
	.args = "[ORIGIN] [-o COLS] [-n] [-r] [-J] [-b]",
	.summary = "list the snapshots of all attached origins, or of ORIGIN",
	.help =
	"List snapshots, one row each: of every attached origin, or of ORIGIN\n"
	"only. An attached origin without snapshots has one row, with the\n"
	"snapshot columns (ID to CHUNKS) empty, null in JSON. Every column of\n"
	"'snapctl status' may be shown too, for the snapshot's origin.\n"
	"\n"
	"Options:\n"
	LISTING_HELP
	"  -h, --help         show this help and exit\n",
	.more_help = list_columns_help,
};

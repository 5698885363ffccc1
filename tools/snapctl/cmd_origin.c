// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - origins: attach, detach, status
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <blkid.h>
#include <libsmartcols.h>
#include <linux/fs.h>

#include "snapctl.h"

static const struct errmsg attach_errors[] = {
	{ EXDEV, "the disk has partitions: attach one of its partitions instead" },
	{ ELOOP, "the store is stacked on the origin (a dm, md or loop device "
		 "over it), so its writes would change the origin: use another store" },
	{ ENOTBLK, "not a block device" },
	{ 0, NULL },
};

/* Refusals of a store file, by the module's errno. */
static const struct errmsg file_store_errors[] = {
	{ ENODATA, "has holes or unwritten (preallocated, never written) "
		   "blocks, which the module cannot map: write it in full (dd "
		   "conv=notrunc from /dev/zero), or let snapctl create it with "
		   "--store-size" },
	{ EOPNOTSUPP, "its filesystem cannot map file blocks to a device for "
		      "good (tmpfs, btrfs, f2fs, network filesystems): put the "
		      "store file on ext4 or xfs, or use a block device" },
	{ EXDEV, "is on the origin itself: a store file must be on another "
		 "filesystem (a store on the origin is not supported yet)" },
	{ ETXTBSY, "in use as swap or as the store of another origin" },
	{ EPERM, "immutable or append-only (chattr -i -a)" },
	{ E2BIG, "more than a million extents: defragment it (e4defrag, "
		 "xfs_fsr) or let snapctl create a new one with --store-size" },
	{ EINVAL, "refused by the module: its size must be a multiple of the "
		  "filesystem block, --chunk-size at least one block, and its "
		  "first 4 KiB contiguous on disk (see dmesg)" },
	{ ENOSPC, "too small for the store header and one chunk: use a larger "
		  "file or a smaller --chunk-size" },
	{ EROFS, "its filesystem is read-only" },
	{ ELOOP, "its filesystem is stacked on the origin (a dm, md or loop "
		 "device over it), so its writes would change the origin" },
	{ EBUSY, "the origin is already attached, or the file's filesystem is "
		 "on an attached origin" },
	{ 0, NULL },
};

/* The store header of kmod/store.c (version 1), as far as snapctl reads it. */
#define STORE_MAGIC		"VOLSNAPS"
#define STORE_HEADER_SIZE	4096
#define STORE_STATE_ACTIVE	1

/* crc32 as the kernel's ~crc32_le(~0, ...), reflected 0xedb88320. */
static uint32_t crc32(const unsigned char *p, size_t len)
{
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * The volsnap header on the store: 0 none, 1 a header of a cleanly
 * detached store or of a live one of @odev (the module reuses both), 2 a
 * live store of another origin, whose number goes to @other.
 */
static int store_header(int sfd, dev_t odev, dev_t *other)
{
	unsigned char h[STORE_HEADER_SIZE];
	uint64_t dev;

	if (pread(sfd, h, sizeof(h), 0) != sizeof(h) ||
	    memcmp(h, STORE_MAGIC, 8) ||
	    le32(h + 4092) != crc32(h, 4092))
		return 0;
	if (le32(h + 20) != STORE_STATE_ACTIVE)
		return 1;
	dev = le64(h + 32);	/* the kernel's new_encode_dev() */
	*other = makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
	return *other == odev ? 1 : 2;
}

/* The disk a device is on (itself for a whole disk). */
static dev_t whole_disk(dev_t devno)
{
	dev_t disk = 0;

	if (blkid_devno_to_wholedisk(devno, NULL, 0, &disk) || !disk)
		return devno;
	return disk;
}

/*
 * Whether @dev is, overlaps or is stacked (dm, md: sysfs slaves) on @odev:
 * the module refuses such a store itself (EINVAL, ELOOP), and what
 * libblkid would find on it is the origin's own data.
 */
static bool on_origin(dev_t dev, dev_t odev, int depth)
{
	char path[64];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	if (dev == odev || whole_disk(dev) == odev || whole_disk(odev) == dev)
		return true;
	if (depth > 8)
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/slaves",
		 major(dev), minor(dev));
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char devpath[512];
		unsigned int ma, mi;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(devpath, sizeof(devpath), "%s/%s/dev", path, de->d_name);
		f = fopen(devpath, "r");
		if (!f)
			continue;
		if (fscanf(f, "%u:%u", &ma, &mi) == 2)
			found = on_origin(makedev(ma, mi), odev, depth + 1);
		fclose(f);
	}
	closedir(dir);
	return found;
}

/*
 * Refuse a store that holds data: a filesystem or other superblock that
 * libblkid finds, unless --force.
 * Return: 0 to go on, else the exit code after a message.
 */
static int check_store(const char *store, int sfd, dev_t odev, dev_t sdev,
		       bool force)
{
	const char *type = NULL, *label = NULL, *uuid = NULL;
	blkid_probe pr;
	dev_t other;
	int ret;

	/*
	 * A volsnap store: its data is the module's own. The module itself
	 * refuses the live store of another origin (EBUSY, explained by
	 * attach_error()).
	 */
	if (store_header(sfd, odev, &other) || on_origin(sdev, odev, 0))
		return 0;
	if (force)
		return 0;
	pr = blkid_new_probe_from_filename(store);
	if (!pr) {
		errx_errno(errno, "%s: cannot probe it for a filesystem "
			   "(--force attaches without probing)", store);
		return EXIT_FAIL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
	ret = blkid_do_safeprobe(pr);
	if (ret == 0) {
		blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
		blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
		blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
		errx_errno(0, "%s: holds %s%s%s%s%s%s%s, which attaching would "
			   "overwrite: use --force to attach it anyway", store,
			   type ? "a " : "data", type ? type : "",
			   type ? " signature" : "",
			   label ? ", LABEL=" : "", label ? label : "",
			   uuid ? ", UUID=" : "", uuid ? uuid : "");
	} else if (ret == -2) {
		errx_errno(0, "%s: holds several filesystem signatures, which "
			   "attaching would overwrite: use --force to attach it "
			   "anyway", store);
	}
	blkid_free_probe(pr);
	return ret == 0 || ret == -2 ? EXIT_FAIL : 0;
}

/* Explain an attach refused with EBUSY or EINVAL: which device, and why. */
static void attach_error(int err, int fd, const char *origin, const char *store,
			 int ofd, int sfd, dev_t odev, dev_t sdev)
{
	struct volsnap_origin_info *origins;
	unsigned int i, nr;
	int obs = 0, sbs = 0;
	char why[160];
	dev_t other;

	if (err == EBUSY && !ctl_list(fd, &origins, &nr)) {
		for (i = 0; i < nr; i++) {
			dev_t o = makedev(origins[i].major, origins[i].minor);
			dev_t s = makedev(origins[i].store_major, origins[i].store_minor);
			char *name = dev_name(o);

			if (o == odev)
				snprintf(why, sizeof(why), "already attached "
					 "(detach it first: snapctl detach %s)", origin);
			else if (s == sdev)
				snprintf(why, sizeof(why), "already the store of "
					 "the attached origin %s: use another store", name);
			free(name);
			if (o == odev || s == sdev) {
				free(origins);
				errx_errno(err, "%s: %s", o == odev ? origin : store, why);
				return;
			}
		}
		free(origins);
	}
	if (err == EBUSY && store_header(sfd, odev, &other) == 2) {
		errx_errno(err, "%s: holds the live volsnap store of origin %u:%u, "
			   "not cleanly detached: detach that origin, or wipe the "
			   "store's first 4 KiB to reuse it", store, major(other),
			   minor(other));
		return;
	}
	if (err == EBUSY) {
		errx_errno(err, "%s: in use by another program or driver (mounted, "
			   "swap, dm, md: see lsblk %s): use another store", store, store);
		return;
	}
	if (sdev == odev) {
		errx_errno(err, "%s: the store is the origin itself: use another "
			   "device", store);
		return;
	}
	if (whole_disk(odev) == sdev || whole_disk(sdev) == odev) {
		errx_errno(err, "%s: the store overlaps the origin %s (one is a "
			   "partition of the other): use another device", store, origin);
		return;
	}
	if (!ioctl(ofd, BLKSSZGET, &obs) && !ioctl(sfd, BLKSSZGET, &sbs) &&
	    sbs > obs) {
		errx_errno(err, "%s: the store has %d-byte logical blocks, larger "
			   "than the %d-byte ones of %s: use a store with %d-byte "
			   "blocks", store, sbs, obs, origin, obs);
		return;
	}
	ctl_error(err, origin, NULL, "the module refused this origin and store "
		  "(see its message in dmesg)");
}

/*
 * Create the store file @path of @size bytes (rounded up to the
 * filesystem block): preallocated, then written with zeros in full, since
 * the module cannot map unwritten blocks, and synced.
 * Return: its descriptor, or -1 after a message (nothing is left behind).
 */
static int create_store_file(const char *path, unsigned long long size)
{
	static char zeros[1 << 20];
	unsigned long long off, bs;
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		errx_errno(errno, "%s: cannot create the store file", path);
		return -1;
	}
	if (fstat(fd, &st))
		goto fail;
	bs = st.st_blksize > 0 ? (unsigned long long)st.st_blksize : 4096;
	size = (size + bs - 1) / bs * bs;
	/* Contiguous blocks where the filesystem can; zeros write them anyway. */
	err = posix_fallocate(fd, 0, size);
	if (err) {
		errno = err;
		goto fail;
	}
	for (off = 0; off < size; off += n) {
		n = pwrite(fd, zeros, size - off < sizeof(zeros) ?
			   size - off : sizeof(zeros), off);
		if (n <= 0) {
			if (!n)
				errno = EIO;
			goto fail;
		}
	}
	if (fsync(fd))
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	unlink(path);
	errx_errno(err, "%s: cannot create a %llu-byte store file", path, size);
	return -1;
}

/*
 * Open the --store argument: a block device, or a regular file (created
 * with @size when it does not exist and @size is not 0; *@created then).
 * Return: its descriptor, or -1 after a message.
 */
static int open_store(const char *path, unsigned long long size, dev_t *devno,
		      bool *is_file, bool *created)
{
	struct stat st, now;
	int fd;

	*is_file = *created = false;
	if (stat(path, &st)) {
		if (errno != ENOENT || !size) {
			errx_errno(errno, errno == ENOENT ? "%s: no such device or "
				   "file (--store-size SIZE creates a store file)" :
				   "%s", path);
			return -1;
		}
		fd = create_store_file(path, size);
		if (fd < 0 || fstat(fd, &st)) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		*is_file = *created = true;
		*devno = st.st_dev;
		return fd;
	}
	if (S_ISDIR(st.st_mode)) {
		errx_errno(EISDIR, "%s: a directory: give the path of a store file "
			   "or device", path);
		return -1;
	}
	if (S_ISBLK(st.st_mode) && size) {
		errx_errno(EINVAL, "%s: --store-size is for a store file, not a "
			   "device", path);
		return -1;
	}
	if (S_ISREG(st.st_mode) && size) {
		errx_errno(EEXIST, "%s: --store-size only creates a new store file: "
			   "attach without it to use this one as it is", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		errx_errno(ENOTBLK, "%s: neither a block device nor a regular file",
			   path);
		return -1;
	}
	*is_file = S_ISREG(st.st_mode);
	*devno = *is_file ? st.st_dev : st.st_rdev;
	/* The module writes a file store through its filesystem's device. */
	fd = open(path, (*is_file ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		errx_errno(errno, "%s", path);
		return -1;
	}
	/* Still what was checked above (not replaced in between). */
	if (fstat(fd, &now) || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		errx_errno(EAGAIN, "%s: changed while it was opened", path);
		close(fd);
		return -1;
	}
	return fd;
}

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
		{ "store-size", required_argument, NULL, 'S' },
		{ "force",      no_argument,       NULL, 'f' },
		{ "threshold",  required_argument, NULL, 't' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_attach at = { 0 };
	const char *threshold = NULL;
	unsigned int pct = 0;
	const char *origin, *store = NULL, *chunk = NULL, *store_size = NULL;
	unsigned long long size = VOLSNAP_CHUNK_DEFAULT, ssize = 0;
	char *oname, *sname, sizebuf[32];
	bool force = false, is_file, created;
	int c, fd, ofd, sfd, ret;
	dev_t odev, sdev, other;

	while ((c = cmd_getopt(cmd, argc, argv, "s:c:S:ft:", longopts)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 't':
			threshold = optarg;
			if (threshold_arg(cmd, threshold, &pct))
				return EXIT_USAGE;
			break;
		case 's':
			store = optarg;
			break;
		case 'c':
			chunk = optarg;
			break;
		case 'S':
			store_size = optarg;
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
	if (store_size && (parse_size(store_size, &ssize) || !ssize))
		return cmd_usage(cmd, "invalid store size '%s'", store_size);

	ofd = open_dev(origin, &odev);
	if (ofd < 0)
		return EXIT_FAIL;
	sfd = open_store(store, ssize, &sdev, &is_file, &created);
	if (sfd < 0) {
		close(ofd);
		return EXIT_FAIL;
	}
	at.origin_fd = ofd;
	at.store_fd = sfd;

	fd = ctl_open();
	ret = created ? 0 : check_store(store, sfd, odev, is_file ? 0 : sdev, force);
	if (ret) {
		close(fd);
		close(sfd);
		close(ofd);
		return ret;
	}
	ret = ctl_ioctl(fd, VOLSNAP_IOC_ATTACH, &at);
	if (ret == -EBUSY && is_file && store_header(sfd, odev, &other) == 2) {
		errx_errno(EBUSY, "%s: holds the live volsnap store of origin %u:%u, "
			   "not cleanly detached: detach that origin, or zero the "
			   "file's first 4 KiB to reuse it", store, major(other),
			   minor(other));
	} else if (ret && is_file) {
		ctl_error(ret, store, file_store_errors, "cannot attach this store file");
		if (created)
			unlink(store);
	} else if (ret == -ENOSPC) {
		ctl_error(ret, store, NULL, "too small for the store header and one "
			  "chunk: use a larger store or a smaller --chunk-size");
	} else if (ret == -EBUSY || ret == -EINVAL) {
		attach_error(-ret, fd, origin, store, ofd, sfd, odev, sdev);
	} else if (ret) {
		ctl_error(ret, origin, attach_errors, "cannot attach");
	} else {
		oname = dev_name(odev);
		sname = is_file ? xstrdup(store) : dev_name(sdev);
		format_size(size, sizebuf, sizeof(sizebuf));
		printf("attached %s (store %s%s, chunk size %s)\n", oname,
		       is_file ? "file " : "", sname, sizebuf);
		free(oname);
		free(sname);
		ret = threshold ? origin_set_threshold(fd, odev, pct) : 0;
		if (ret)
			ctl_error(ret, origin, NULL, "attached, but cannot set "
				  "its threshold (snapctl set ORIGIN threshold=PCT)");
	}
	close(fd);
	close(sfd);
	close(ofd);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const struct command cmd_attach = {
	.name = "attach",
	.fn = do_attach,
	.args = "ORIGIN --store STORE [--store-size SIZE] [--chunk-size SIZE] "
		"[--threshold PCT] [--force]",
	.summary = "start tracking ORIGIN, preserving overwritten data on STORE",
	.help =
	"Start tracking ORIGIN, a block device that may be mounted and in use.\n"
	"From the first snapshot on, the old content of every chunk written\n"
	"on ORIGIN is first copied to STORE, which the module keeps open\n"
	"exclusively until 'snapctl detach'. A STORE that holds a filesystem,\n"
	"or another signature libblkid knows (swap, RAID, LVM, ...) is refused\n"
	"unless --force is given.\n"
	"\n"
	"STORE may be a regular file on another ext2/3/4 or xfs filesystem\n"
	"(not ORIGIN's own; not tmpfs, btrfs, f2fs: refused). With\n"
	"--store-size a missing file is created (mode 0600): preallocated, then\n"
	"written with zeros in full, since the module cannot use holes or\n"
	"unwritten preallocated blocks. An existing file is used as it is (it\n"
	"must be written in full); --store-size with an existing file is\n"
	"refused. While attached the file is pinned like a swap file: writes,\n"
	"truncation and fallocate by others fail with ETXTBSY. Growing the\n"
	"file on demand is not done yet.\n"
	"\n"
	"Options:\n"
	"  -s, --store STORE       the shadow store: a block device or a file\n"
	"                          (required)\n"
	"  -S, --store-size SIZE   create STORE as a file of SIZE bytes (K, M,\n"
	"                          G suffixes) when it does not exist\n"
	"  -c, --chunk-size SIZE   the copy-on-write unit: a power of two from\n"
	"                          4K to 1M (default 64K); bytes, or K or M\n"
	"                          for KiB or MiB, any case\n"
	"  -f, --force             attach even when STORE holds a filesystem\n"
	"  -t, --threshold PCT     send a threshold event when STORE is PCT\n"
	"                          percent full (0 to 100 or off; default 80;\n"
	"                          'snapctl set' changes it later)\n"
	"  -h, --help              show this help and exit\n",
};

static const struct errmsg detach_errors[] = {
	{ ENODEV, "not attached" },
	{ EBUSY, "it has snapshots: delete them, or use --force to delete them "
		 "with it" },
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
	char *name, why[128];

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
	if (ret == -EBUSY && revert_busy(devno, why, sizeof(why))) {
		errx_errno(EBUSY, "%s: %s (or use --force)", origin, why);
		return EXIT_FAIL;
	}
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
	{ ENODEV, "not attached (see 'snapctl status' for the attached origins)" },
	{ 0, NULL },
};

static const int status_defaults[] = {
	COL_ORIGIN, COL_SIZE, COL_FSTYPE, COL_MOUNTPOINT, COL_STORE,
	COL_CHUNK_SIZE, COL_STORE_SIZE, COL_STORE_USED, COL_FILL, COL_FROZEN,
	COL_TIMED_OUT, COL_NR_SNAPS,
};

static const struct listing status_listing = {
	.command = "status",
	.table = "origins",
	.snapshots = false,
	.defaults = status_defaults,
	.ndefaults = ARRAY_SIZE(status_defaults),
};

/* Add the row of one origin; -errno of VOLSNAP_IOC_STATUS. */
static int add_status(int fd, struct libscols_table *tb, dev_t devno)
{
	struct volsnap_snapshot_info *snaps;
	struct volsnap_origin_info oi;
	struct origin_row row;
	unsigned int count;
	int ret;

	ret = ctl_status(fd, devno, &oi, &snaps, &count);
	if (ret)
		return ret;
	free(snaps);
	origin_row_init(&row, devno, &oi);
	output_add(tb, &row, NULL);
	origin_row_free(&row);
	return 0;
}

static int do_status(const struct command *cmd, int argc, char **argv)
{
	struct volsnap_origin_info *origins;
	struct libscols_table *tb;
	const char *origin = NULL;
	unsigned int i, nr;
	int c, fd, ret;
	dev_t devno;

	while ((c = cmd_getopt(cmd, argc, argv, LISTING_SHORTOPTS,
			       listing_longopts)) != -1)
		listing_option(cmd, &status_listing, c);
	if (cmd_nargs(cmd, argc, argv, 0, 1))
		return EXIT_USAGE;
	if (optind < argc) {
		origin = argv[optind];
		if (dev_lookup(origin, &devno))
			return EXIT_FAIL;
	}

	fd = ctl_open();
	tb = output_new(&status_listing);
	if (origin) {
		ret = add_status(fd, tb, devno);
		if (ret)
			ctl_error(ret, origin, status_errors, "cannot get its status");
	} else {
		ret = ctl_list(fd, &origins, &nr);
		if (!ret) {
			for (i = 0; !ret && i < nr; i++) {
				ret = add_status(fd, tb, makedev(origins[i].major,
								 origins[i].minor));
				if (ret == -ENODEV)	/* detached meanwhile */
					ret = 0;
			}
			free(origins);
		}
		if (ret)
			ctl_error(ret, CTL_PATH, NULL, "cannot list the attached origins");
	}
	close(fd);
	if (ret) {
		scols_unref_table(tb);
		return EXIT_FAIL;
	}
	output_print(tb);
	return EXIT_OK;
}

static void status_columns_help(FILE *out)
{
	output_columns_help(&status_listing, out);
}

const struct command cmd_status = {
	.name = "status",
	.fn = do_status,
	.args = "[ORIGIN] [-o COLS] [-n] [-r] [-J] [-b]",
	.summary = "show the attached origins, or ORIGIN: store, use, state",
	.help =
	"Show every attached origin, or ORIGIN only, one row each: its size,\n"
	"filesystem and mount point, its store, chunk size and how much of the\n"
	"store is used, whether it is frozen and whether its last freeze hit\n"
	"the hold limit, and its number of snapshots ('snapctl list' lists\n"
	"them). Sizes are shown as lsblk does (64K, 1.5G), in bytes with -b\n"
	"and in JSON; the store's fill is a bar on a terminal.\n"
	"\n"
	"Options:\n"
	LISTING_HELP
	"  -h, --help         show this help and exit\n",
	.more_help = status_columns_help,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - revert: make the origin equal to one of its snapshots
 *
 * The module claims the origin (VOLSNAP_IOC_REVERT): no mount, no other
 * program, no snapshot or freeze until the revert ends. Then the chunks
 * written since the snapshot (VOLSNAP_IOC_DIFF up to now) are read from the
 * image and from the origin, and those that differ are written to the
 * origin device, where copy-on-write keeps every other snapshot exact;
 * a few pieces at a time, each in its own thread.
 * Killed halfway, the claim stays: running revert again finishes the job.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "snapctl.h"

/* Bytes compared and written per step: one chunk at least, 1 MiB at most. */
#define STEP_MAX	(1024 * 1024)

/* A program with @devno open: "PID (COMM)" into @buf, or false. */
static bool find_opener(dev_t devno, char *buf, size_t len)
{
	DIR *proc = opendir("/proc"), *fds;
	char path[PATH_MAX], comm[64];
	struct dirent *p, *f;
	bool found = false;
	struct stat st;
	FILE *cf;

	if (!proc)
		return false;
	while (!found && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9' ||
		    atoi(p->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (f = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name,
				 f->d_name);
			found = !stat(path, &st) && S_ISBLK(st.st_mode) &&
				st.st_rdev == devno;
		}
		closedir(fds);
		if (!found)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
		comm[0] = '\0';
		cf = fopen(path, "r");
		if (cf) {
			if (fgets(comm, sizeof(comm), cf))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
		snprintf(buf, len, "open by process %.16s (%.40s)", p->d_name, comm);
	}
	closedir(proc);
	return found;
}

/* A device stacked on @devno (dm, md, ...): "held by NAME", or false. */
static bool find_holder(dev_t devno, char *buf, size_t len)
{
	char path[64];
	struct dirent *h;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
		 major(devno), minor(devno));
	d = opendir(path);
	if (!d)
		return false;
	/* The images of the origin's snapshots have their links here too. */
	while (!found && (h = readdir(d)))
		if (h->d_name[0] != '.' && image_index(h->d_name) < 0) {
			snprintf(buf, len, "held by %.40s", h->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

/**
 * revert_busy() - is an origin halfway through a revert?
 * @origin: the origin.
 * @buf: out: what to tell the user, when it is.
 * @len: size of @buf.
 *
 * Commands refused with EBUSY call this: a revert that was killed keeps
 * the origin from being snapshotted, frozen or detached until it ends.
 */
bool revert_busy(dev_t origin, char *buf, size_t len)
{
	struct volsnap_snapshot_info *snaps;
	struct volsnap_origin_info oi;
	unsigned int count, i;
	int fd = ctl_try_open();
	bool ret = false;

	if (fd < 0)
		return false;
	if (!ctl_status(fd, origin, &oi, &snaps, &count)) {
		for (i = 0; i < count && (oi.state & VOLSNAP_ORIGIN_REVERTING); i++) {
			if (snaps[i].id != oi.revert_id)
				continue;
			snprintf(buf, len, "a revert to snapshot %u is not finished: "
				 "unless another 'snapctl revert' runs it, run "
				 "'snapctl revert /dev/volsnap%u' to finish it",
				 oi.revert_id, snaps[i].image_index);
			ret = true;
			break;
		}
		free(snaps);
	}
	close(fd);
	return ret;
}

/* Why the origin is busy, as far as can be seen from here. */
static void busy_reason(const struct snap_ref *ref, char *buf, size_t len)
{
	struct volsnap_origin_info oi;
	struct volsnap_snapshot_info *snaps;
	unsigned int count;
	char *mnt;
	int fd;

	if (revert_busy(ref->origin, buf, len))
		return;
	fd = ctl_try_open();
	if (fd >= 0 && !ctl_status(fd, ref->origin, &oi, &snaps, &count)) {
		free(snaps);
		if (oi.state & VOLSNAP_ORIGIN_FROZEN) {
			snprintf(buf, len, "frozen (snapctl thaw)");
			close(fd);
			return;
		}
	}
	if (fd >= 0)
		close(fd);
	mnt = dev_mountpoint(ref->origin);
	if (mnt) {
		snprintf(buf, len, "mounted on %s (unmount it first)", mnt);
		free(mnt);
		return;
	}
	if (find_holder(ref->origin, buf, len) || find_opener(ref->origin, buf, len))
		return;
	snprintf(buf, len, "in use by another program");
}

/* The fault point of the tests: a pause after each write, in ms. */
static unsigned int debug_delay_ms(void)
{
	const char *v = getenv("SNAPCTL_DEBUG_REVERT_DELAY_MS");

	return v ? (unsigned int)strtoul(v, NULL, 10) : 0;
}

/*
 * Pieces compared and written at once: each waits on reads and a write
 * (which copies for the newer snapshots), so several keep the devices busy.
 */
#define REVERT_THREADS	4

/**
 * struct revert_job - the write-back, shared by its threads
 * @image: the image, read.
 * @origin: the origin, read and written.
 * @d: the extents to compare.
 * @step: the largest piece.
 * @delay: the fault point's pause after each write, in ms.
 * @lock: protects everything below.
 * @ext: the extent the next piece comes from.
 * @off: the next piece's offset.
 * @written: bytes written so far.
 * @pr: the progress line.
 * @ret: the first error, or 0.
 * @where: which device the first error came from.
 */
struct revert_job {
	int image, origin;
	const struct snap_diff *d;
	size_t step;
	unsigned int delay;
	pthread_mutex_t lock;
	size_t ext;
	unsigned long long off;
	unsigned long long written;
	struct progress pr;
	int ret;
	const char *where;
};

/* The next piece into *@off and *@n; false when none is left. Locked. */
static bool next_piece(struct revert_job *j, unsigned long long *off,
		       unsigned long long *n)
{
	const struct byte_extent *e;
	unsigned long long end;

	while (j->ext < j->d->nr) {
		e = &j->d->ext[j->ext];
		end = e->offset + e->length;
		if (j->off < end) {
			*off = j->off;
			*n = end - j->off < j->step ? end - j->off : j->step;
			j->off += *n;
			return true;
		}
		if (++j->ext < j->d->nr)
			j->off = j->d->ext[j->ext].offset;
	}
	return false;
}

/* Compare and write pieces until none is left or one fails. */
static void *revert_worker(void *arg)
{
	struct revert_job *j = arg;
	unsigned long long off, n;
	void *a = NULL, *b = NULL;
	const char *where;
	bool wrote;
	int ret;

	if (posix_memalign(&a, 4096, j->step) ||
	    posix_memalign(&b, 4096, j->step))
		oom();
	for (;;) {
		pthread_mutex_lock(&j->lock);
		if (j->ret || !next_piece(j, &off, &n)) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		pthread_mutex_unlock(&j->lock);

		wrote = false;
		where = "image";
		ret = read_full(j->image, a, n, off);
		if (!ret) {
			where = "origin";
			ret = read_full(j->origin, b, n, off);
		}
		if (!ret && memcmp(a, b, n)) {
			ret = write_full(j->origin, a, n, off);
			wrote = true;
			if (j->delay)
				usleep(j->delay * 1000);
		}

		pthread_mutex_lock(&j->lock);
		if (ret && !j->ret) {
			j->ret = ret;
			j->where = where;
		}
		if (wrote && !ret)
			j->written += n;
		progress_add(&j->pr, n);
		pthread_mutex_unlock(&j->lock);
	}
	free(a);
	free(b);
	return NULL;
}

/*
 * Write back what differs in @d's extents from @image to @origin, with up
 * to REVERT_THREADS pieces in flight. Returns 0 or -errno; *@where names
 * the device that failed.
 */
static int write_back(int image, int origin, const struct snap_diff *d,
		      unsigned long long *written, const char **where)
{
	struct revert_job j = {
		.image = image,
		.origin = origin,
		.d = d,
		.step = d->chunk_size > STEP_MAX ? d->chunk_size : STEP_MAX,
		.delay = debug_delay_ms(),
		.off = d->nr ? d->ext[0].offset : 0,
		.where = "origin",
	};
	pthread_t th[REVERT_THREADS - 1];
	int i, started = 0;

	pthread_mutex_init(&j.lock, NULL);
	progress_start(&j.pr, "revert", d->total);
	/* Fewer threads if some cannot start: this one works as well. */
	for (i = 0; i < REVERT_THREADS - 1; i++) {
		if (pthread_create(&th[i], NULL, revert_worker, &j))
			break;
		started++;
	}
	revert_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	progress_end(&j.pr);
	pthread_mutex_destroy(&j.lock);

	*written = j.written;
	*where = j.where;
	if (!j.ret && fsync(origin)) {
		j.ret = -errno;
		*where = "origin";
	}
	return j.ret;
}

static int do_revert(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_revert rv = { 0 };
	unsigned long long written, origin_bytes = 0;
	char reason[256], *name = NULL;
	const char *where = "origin";
	struct snap_diff d = { 0 };
	int fd, ifd = -1, ofd = -1, ret;
	struct snap_ref ref;

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
	name = dev_name(ref.origin);
	rv.major = major(ref.origin);
	rv.minor = minor(ref.origin);
	rv.id = ref.info.id;

	ret = ctl_ioctl(fd, VOLSNAP_IOC_REVERT, &rv);
	if (ret) {
		const struct errmsg errs[] = {
			{ ENODEV, "not attached" },
			{ ENOENT, "snapshot deleted meanwhile" },
			{ ESTALE, "the snapshot is invalid: it cannot be written back "
				  "(a revert to it left halfway: 'snapctl detach --force' "
				  "gives it up)" },
			{ EMEDIUMTYPE, "the snapshot is writable: it cannot be written back" },
			{ EBUSY, reason },
			{ 0, NULL },
		};

		busy_reason(&ref, reason, sizeof(reason));
		ctl_error(ret, name, errs, "cannot begin the revert");
		goto out;
	}

	/* Claimed: from here the origin stays marked until the end. */
	ret = snap_diff(fd, &ref, NULL, &d);
	if (ret) {
		ctl_error(ret, name, NULL, "cannot list the changed chunks");
		goto out;
	}
	ofd = open(name, O_RDWR | O_DIRECT | O_CLOEXEC);
	ifd = open(ref.image, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (ofd < 0 || ifd < 0) {
		ret = -errno;
		errx_errno(-ret, "%s: cannot open", ofd < 0 ? name : ref.image);
		goto out;
	}
	if (ioctl(ofd, BLKGETSIZE64, &origin_bytes) || origin_bytes < d.from_bytes) {
		ret = -EINVAL;
		errx_errno(0, "%s: smaller than the snapshot (%llu bytes): cannot revert",
			   name, d.from_bytes);
		goto out;
	}
	ret = write_back(ifd, ofd, &d, &written, &where);
	if (ret) {
		errx_errno(-ret, "%s: revert stopped halfway (run it again to finish)",
			   !strcmp(where, "image") ? ref.image : name);
		goto out;
	}
	rv.flags = VOLSNAP_REVERT_END;
	ret = ctl_ioctl(fd, VOLSNAP_IOC_REVERT, &rv);
	if (ret) {
		ctl_error(ret, name, NULL, "cannot end the revert");
		goto out;
	}
	printf("reverted %s to snapshot %u (%s): %llu bytes written, %llu compared\n",
	       name, ref.info.id, ref.image, written, d.total);
out:
	if (ifd >= 0)
		close(ifd);
	if (ofd >= 0)
		close(ofd);
	close(fd);
	free(d.ext);
	free(ref.image);
	free(name);
	return ret ? EXIT_FAIL : EXIT_OK;
}

const struct command cmd_revert = {
	.name = "revert",
	.fn = do_revert,
	.args = "/dev/volsnapN",
	.summary = "make the origin equal to a snapshot, writing back what changed",
	.help =
	"Writes back to the origin the chunks that differ from the snapshot\n"
	"whose image is /dev/volsnapN, so that the origin reads exactly as the\n"
	"snapshot does. Only chunks written since the snapshot are read and\n"
	"compared; only those that differ are written.\n"
	"\n"
	"The origin must not be mounted or open by any program: revert refuses\n"
	"and says who holds it. From the start the module keeps the origin from\n"
	"being mounted, snapshotted or frozen, and the snapshot from being\n"
	"deleted, until the revert ends. If revert is killed halfway, the origin\n"
	"stays so marked ('snapctl status -o +reverting' shows the snapshot);\n"
	"run the same revert again to finish it, or 'snapctl detach --force' to\n"
	"give up (the origin is then part old, part new).\n"
	"\n"
	"The other snapshots of the origin stay exact: the writes go through\n"
	"copy-on-write like any other, so reverting to an older snapshot while\n"
	"newer ones exist takes store space for them.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help and exit\n",
};

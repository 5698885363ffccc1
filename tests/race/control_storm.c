// SPDX-License-Identifier: GPL-2.0
/*
 * A storm of control commands on two origins at once, under writers and
 * image readers.
 *
 * For a fixed time ($VS_STORM_SECONDS; 30 s, 10 s on the debug kernel),
 * with /dev/vda (store /dev/vdb) and /dev/vdc (store /dev/vdd) attached:
 *  - NCTL processes, each with its own control file, issue random create,
 *    create --frozen, delete (with and without force), freeze (then
 *    create --frozen, thaw), thaw, status and list on either origin;
 *  - one process detaches the second origin (plain, then forced) and
 *    attaches it again, over and over;
 *  - two writers (_vsdata churn) write random stamps to both origins and
 *    verify at the end that each origin holds exactly what they wrote;
 *  - two readers open random live images and read them;
 *  - this process stamps a known region of the first origin with a new
 *    generation between its own creates, and checks that each of its
 *    snapshots reads exactly the generation of its instant.
 *
 * Oracle: every ioctl returns 0 or an errno uapi/linux/volsnap.h documents
 * for it in this situation; a read of an image fails only when its
 * snapshot is gone or invalid; the writers see no error and their data
 * verifies; at least one snapshot verified exactly; at the end both origins
 * detach and the module unloads. The runner scans the kernel log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"
#include "vstest.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 1800

#define NCTL		3
#define NREAD		2
#define NORIG		2
#define LIVE_MAX	12		/* workers delete above this */
#define KNOWN		(8 * 2048ULL)	/* known region: [0, 8 MiB) of vda */
#define CHURN_AT	"16M"		/* writers: [16 MiB, 64 MiB) */
#define CHURN_LEN	"48M"
#define MAXSNAP		64

enum op {
	OP_CREATE, OP_CREATE_FROZEN, OP_DELETE, OP_DELETE_FORCE, OP_FREEZE,
	OP_THAW, OP_STATUS, OP_LIST, OP_DETACH, OP_DETACH_FORCE, OP_ATTACH,
	OP_READ, NOPS
};

static const char *const op_name[NOPS] = {
	"create", "create-frozen", "delete", "delete-force", "freeze",
	"thaw", "status", "list", "detach", "detach-force", "attach",
	"image-read",
};

/* Errnos each command may return here (0 always may). */
static const int allowed[NOPS][8] = {
	[OP_CREATE] = { ENODEV, EMLINK, EBUSY, ETIMEDOUT },
	[OP_CREATE_FROZEN] = { ENODEV, EMLINK, EINVAL, ETIMEDOUT },
	[OP_DELETE] = { ENODEV, ENOENT, EBUSY },
	[OP_DELETE_FORCE] = { ENODEV, ENOENT },
	[OP_FREEZE] = { ENODEV, EBUSY, ETIMEDOUT },
	[OP_THAW] = { ENODEV, EINVAL, ETIMEDOUT },
	[OP_STATUS] = { ENODEV },
	[OP_LIST] = { 0 },
	[OP_DETACH] = { EBUSY },
	[OP_DETACH_FORCE] = { 0 },
	[OP_ATTACH] = { 0 },
	/* checked apart: only when the snapshot is gone or invalid */
	[OP_READ] = { EIO, ENXIO, ENODEV },
};

/* Shared by every process of the test. */
struct storm {
	int stop;
	int failures;
	unsigned int protect;		/* id this process verifies on vda */
	unsigned long ok[NOPS];
	unsigned long err[NOPS];
};

static struct storm *sh;
static const char *orig[NORIG];
static const char *store[NORIG];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
}

/* Count a command's result; a failure when ret is not allowed for op. */
static void account(enum op op, int o, int ret)
{
	unsigned int i;

	if (!ret) {
		__atomic_add_fetch(&sh->ok[op], 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&sh->err[op], 1, __ATOMIC_RELAXED);
	for (i = 0; i < ARRAY_SIZE(allowed[op]); i++)
		if (allowed[op][i] && -ret == allowed[op][i])
			return;
	fail("%s on %s: %s (not a documented error here)", op_name[op],
	     orig[o], strerror(-ret));
}

static int origin_cmd(int ctl, unsigned long cmd, const char *origin)
{
	struct volsnap_origin_cmd c;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = vs_devno(origin, &c.major, &c.minor);
	if (ret)
		return ret;
	return ioctl(ctl, cmd, &c) ? -errno : 0;
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED);
}

/* A random live snapshot of origin o (not the protected one); 0: none. */
static unsigned int pick_snap(int ctl, int o, struct stamp_rng *rng,
			      unsigned int *nlive, unsigned int *index)
{
	struct volsnap_snapshot_info snaps[MAXSNAP];
	unsigned int n = MAXSNAP, k;
	int ret;

	*nlive = 0;
	ret = vs_status(ctl, orig[o], NULL, snaps, &n);
	account(OP_STATUS, o, ret);
	if (ret || !n)
		return 0;
	*nlive = n;
	if (n > MAXSNAP)
		n = MAXSNAP;
	k = stamp_rng_range(rng, 0, n - 1);
	if (o == 0 && snaps[k].id == __atomic_load_n(&sh->protect, __ATOMIC_RELAXED))
		return 0;
	if (index)
		*index = snaps[k].image_index;
	return snaps[k].id;
}

static void ctl_worker(unsigned int w, u32 seed)
{
	struct volsnap_create c;
	struct stamp_rng rng;
	int ctl = vs_ctl_open();

	if (ctl < 0) {
		fail("worker %u: open control: %s", w, strerror(-ctl));
		return;
	}
	stamp_rng_init(&rng, seed + w);
	while (!stopping()) {
		int o = stamp_rng_range(&rng, 0, NORIG - 1);
		unsigned int id, nlive;
		int ret;

		switch (stamp_rng_range(&rng, 0, 7)) {
		case 0:
		case 1:
			id = pick_snap(ctl, o, &rng, &nlive, NULL);
			if (nlive > LIVE_MAX && id) {
				ret = vs_delete(ctl, orig[o], id, false);
				account(OP_DELETE, o, ret);
				break;
			}
			account(OP_CREATE, o, vs_create(ctl, orig[o], 0, &c));
			break;
		case 2:
		case 3: {
			bool force = !stamp_rng_range(&rng, 0, 3);

			id = pick_snap(ctl, o, &rng, &nlive, NULL);
			if (!id)
				break;
			ret = vs_delete(ctl, orig[o], id, force);
			account(force ? OP_DELETE_FORCE : OP_DELETE, o, ret);
			break;
		}
		case 4:
			ret = origin_cmd(ctl, VOLSNAP_IOC_FREEZE, orig[o]);
			account(OP_FREEZE, o, ret);
			if (ret)
				break;
			usleep(stamp_rng_range(&rng, 0, 20000));
			if (stamp_rng_range(&rng, 0, 1))
				account(OP_CREATE_FROZEN, o,
					vs_create(ctl, orig[o],
						  VOLSNAP_CREATE_FROZEN, &c));
			/* A third of the freezes end with the file's close. */
			if (stamp_rng_range(&rng, 0, 2)) {
				account(OP_THAW, o,
					origin_cmd(ctl, VOLSNAP_IOC_THAW, orig[o]));
			} else {
				close(ctl);
				ctl = vs_ctl_open();
				if (ctl < 0) {
					fail("worker %u: reopen control: %s", w,
					     strerror(-ctl));
					return;
				}
			}
			break;
		case 5:
			if (stamp_rng_range(&rng, 0, 1))
				account(OP_THAW, o,
					origin_cmd(ctl, VOLSNAP_IOC_THAW, orig[o]));
			else
				account(OP_CREATE_FROZEN, o,
					vs_create(ctl, orig[o],
						  VOLSNAP_CREATE_FROZEN, &c));
			break;
		case 6:
			pick_snap(ctl, o, &rng, &nlive, NULL);
			break;
		default: {
			struct volsnap_origin_info infos[4];
			struct volsnap_list l = {
				.count = ARRAY_SIZE(infos),
				.origins = (uintptr_t)infos,
			};

			account(OP_LIST, o,
				ioctl(ctl, VOLSNAP_IOC_LIST, &l) ? -errno : 0);
			break;
		}
		}
	}
	close(ctl);
}

/* Detach the second origin and attach it again, over and over. */
static void detacher(u32 seed)
{
	struct stamp_rng rng;
	int ctl = vs_ctl_open();

	if (ctl < 0) {
		fail("%s: open control: %s", __func__, strerror(-ctl));
		return;
	}
	stamp_rng_init(&rng, seed + 50);
	while (!stopping()) {
		int ret;

		usleep(stamp_rng_range(&rng, 500000, 2000000));
		ret = vs_detach(ctl, orig[1], false);
		account(OP_DETACH, 1, ret);
		if (ret) {
			ret = vs_detach(ctl, orig[1], true);
			account(OP_DETACH_FORCE, 1, ret);
		}
		if (ret)
			break;
		usleep(stamp_rng_range(&rng, 0, 300000));
		account(OP_ATTACH, 1, vs_attach(ctl, orig[1], store[1], 65536));
	}
	close(ctl);
}

/* Read random live images; a failed read needs its snapshot gone. */
static void reader(unsigned int r, u32 seed)
{
	size_t len = 64 * 1024;
	struct stamp_rng rng;
	char *buf = stamp_alloc(len);
	int ctl = vs_ctl_open();
	u64 sectors = vs_dev_sectors(orig[0]);

	if (ctl < 0 || !buf) {
		fail("%s %u: cannot start", __func__, r);
		return;
	}
	if (vs_dev_sectors(orig[1]) < sectors)
		sectors = vs_dev_sectors(orig[1]);
	stamp_rng_init(&rng, seed + 100 + r);
	while (!stopping()) {
		int o = stamp_rng_range(&rng, 0, NORIG - 1);
		struct volsnap_snapshot_info si;
		unsigned int id, nlive, index = 0, i;
		char path[32];
		int fd, ret = 0;

		id = pick_snap(ctl, o, &rng, &nlive, &index);
		if (!id) {
			usleep(10000);
			continue;
		}
		vs_image_path(index, path, sizeof(path));
		fd = open(path, O_RDONLY | O_DIRECT);
		if (fd < 0)
			continue;	/* gone already, or its node not yet made */
		for (i = 0; i < 16 && !ret; i++) {
			off_t at = stamp_rng_range(&rng, 0, sectors / 128 - 1) * len;

			errno = 0;
			if (pread(fd, buf, len, at) != (ssize_t)len)
				ret = errno ? -errno : -EIO;
		}
		if (!ret) {
			account(OP_READ, o, 0);
		} else {
			int gone = vs_snap_info(ctl, orig[o], id, &si);

			if (!gone && !(si.state & VOLSNAP_SNAP_INVALID))
				fail("%s %u: read of %s (snapshot %u of %s, still valid): %s",
				     __func__, r, path, id, orig[o], strerror(-ret));
			else
				account(OP_READ, o, ret);
		}
		close(fd);
	}
	free(buf);
	close(ctl);
}

static pid_t spawn_fn(void (*fn)(unsigned int, u32), unsigned int arg, u32 seed)
{
	pid_t pid = fork();

	if (!pid) {
		fn(arg, seed);
		fflush(stdout);
		_exit(0);
	}
	return pid;
}

static void detacher_fn(unsigned int arg, u32 seed)
{
	(void)arg;
	detacher(seed);
}

static pid_t spawn_churn(const char *dev, unsigned int seconds, u32 gen0)
{
	pid_t pid = fork();

	if (!pid) {
		char secs[16], g[16];

		snprintf(secs, sizeof(secs), "%u", seconds);
		snprintf(g, sizeof(g), "%u", gen0);
		execl("../stamp/_vsdata", "_vsdata", "churn", dev, CHURN_AT,
		      CHURN_LEN, secs, g, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static unsigned int storm_seconds(void)
{
	const char *s = getenv("VS_STORM_SECONDS");
	const char *k = getenv("VS_KERNEL");

	if (s && *s)
		return strtoul(s, NULL, 0);
	return k && !strcmp(k, "debug") ? 10 : 30;
}

/*
 * One round of the known region: stamp it with gen, snapshot, stamp gen+1,
 * and the image must read gen everywhere. Returns 1 verified, 0 skipped (the
 * snapshot was deleted or invalidated by the storm), -1 a mismatch.
 */
static int known_round(int ctl, int fd, u32 gen, u32 seed,
		       struct __test_metadata *_metadata)
{
	struct volsnap_snapshot_info si;
	struct volsnap_create c;
	unsigned int tries = 0;
	long bad;
	int ret, img;

	EXPECT_EQ(0, stamp_write(fd, 0, KNOWN, gen, seed));
	do {
		ret = vs_create(ctl, orig[0], 0, &c);
		if (ret)
			usleep(20000);
	} while ((ret == -EBUSY || ret == -ETIMEDOUT || ret == -EMLINK) &&
		 ++tries < 200);
	account(OP_CREATE, 0, ret);
	if (ret)
		return 0;
	__atomic_store_n(&sh->protect, c.id, __ATOMIC_RELAXED);
	img = vs_image_open(c.image_index, O_RDONLY | O_DIRECT);
	EXPECT_EQ(0, stamp_write(fd, 0, KNOWN, gen + 1, seed));
	if (img < 0)
		return 0;
	bad = stamp_verify(img, 0, KNOWN, NULL, gen, seed, "known region");
	close(img);
	ret = vs_snap_info(ctl, orig[0], c.id, &si);
	if (ret || si.state & VOLSNAP_SNAP_INVALID)
		return 0;	/* deleted in the window before protect */
	if (bad) {
		printf("# snapshot %u of %s: %ld from the known region (gen %u)\n",
		       c.id, orig[0], bad, gen);
		return -1;
	}
	return 1;
}

TEST(control_storm)
{
	unsigned int seconds = storm_seconds(), i, verified = 0, skipped = 0;
	pid_t ctlp[NCTL], readp[NREAD], detp, churn[NORIG];
	u32 seed = stamp_seed(), gen = 1;
	int ctl, fd, status, n;
	u64 end;

	orig[0] = vs_disk_origin();
	store[0] = vs_disk_store();
	orig[1] = vs_disk_scratch1();
	store[1] = vs_disk_scratch2();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));

	ASSERT_EQ(0, vs_module_load());
	ctl = vs_ctl_open();
	ASSERT_LE(0, ctl);
	vs_detach_all(ctl);
	for (i = 0; i < NORIG; i++) {
		ASSERT_EQ(0, vs_wipe_store(store[i]));
		ASSERT_EQ(0, vs_attach(ctl, orig[i], store[i], 65536));
	}
	fd = open(orig[0], O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	printf("# storm of %u s, seed %u\n", seconds, seed);
	fflush(stdout);

	churn[0] = spawn_churn(orig[0], seconds, 1000);
	churn[1] = spawn_churn(orig[1], seconds, 1000);
	for (i = 0; i < NCTL; i++)
		ctlp[i] = spawn_fn(ctl_worker, i, seed);
	for (i = 0; i < NREAD; i++)
		readp[i] = spawn_fn(reader, i, seed);
	detp = spawn_fn(detacher_fn, 0, seed);

	end = vs_now_ns() + seconds * 1000000000ULL;
	while (vs_now_ns() < end) {
		n = known_round(ctl, fd, gen, seed, _metadata);
		if (n > 0)
			verified++;
		else if (!n)
			skipped++;
		EXPECT_LE(0, n);
		gen += 2;
		usleep(200000);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);

	for (i = 0; i < NCTL; i++)
		EXPECT_EQ(ctlp[i], waitpid(ctlp[i], &status, 0));
	for (i = 0; i < NREAD; i++)
		EXPECT_EQ(readp[i], waitpid(readp[i], &status, 0));
	EXPECT_EQ(detp, waitpid(detp, &status, 0));
	for (i = 0; i < NORIG; i++) {
		EXPECT_EQ(churn[i], waitpid(churn[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			TH_LOG("writer on %s: status %#x", orig[i], status);
		}
	}

	for (i = 0; i < NOPS; i++)
		printf("# %-14s %6lu ok %6lu refused\n", op_name[i],
		       sh->ok[i], sh->err[i]);
	printf("# known region: %u snapshots verified exactly, %u skipped\n",
	       verified, skipped);
	EXPECT_EQ(0, sh->failures);
	EXPECT_LE(1, verified);
	/* Every ioctl kind ran and succeeded at least once. */
	for (i = 0; i < NOPS; i++) {
		if (i == OP_DETACH || i == OP_DELETE_FORCE)
			continue;	/* may be always refused, or never picked */
		EXPECT_LT(0, sh->ok[i]) {
			TH_LOG("%s never succeeded", op_name[i]);
		}
	}

	close(fd);
	for (i = 0; i < NORIG; i++)
		EXPECT_EQ(0, vs_detach(ctl, orig[i], true));
	close(ctl);
	EXPECT_EQ(0, system("rmmod volsnap"));
	EXPECT_EQ(0, vs_module_load());
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * A structure-aware fuzzer of the control device. It knows every ioctl of
 * uapi/linux/volsnap.h and its structure, starts from valid arguments
 * against real devices (the origin attached with its store, real
 * snapshots, the scratch disks as further origins and stores, image devices
 * as origins and stores) and mutates one or two things at a time: flags
 * bits, pad, reserved and output fields, ids, device numbers, chunk sizes,
 * counts and user pointers (NULL, unmapped, read-only, straddling an
 * unmapped page, kernel addresses), file descriptors of the wrong kind,
 * ioctl numbers with wrong size or direction bits, and sequences (freeze,
 * create, close the freezing file; delete twice; detach with snapshots;
 * the watchdog; a caller without CAP_SYS_ADMIN).
 *
 * A model of what is attached predicts each call's exact result. Checked
 * on every call: the errno is in the documented set of the ioctl and the
 * predicted one; a rejected call changes nothing (LIST and STATUS before
 * and after are the same bytes); after every step, what LIST and STATUS
 * report is the model (origins in attach order, stores, chunk sizes,
 * freeze state, snapshot ids and images) and the store counts are
 * consistent. The origin is stamped before and never written: at the end
 * it and every live image of it must read the stamp. Then everything is
 * detached, the module must unload, and on a kernel with kmemleak no new
 * leak may be reported.
 *
 * VS_SEED reproduces a run (the seed is printed); VS_FUZZ_ITERS sets the
 * number of steps (default 1500, 300 on the debug kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stamp.h"
#include "vsops.h"
#include "vstest.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 3600

#define PG		4096UL
#define MAXO		4	/* vda and up to three more (stores: vdb, vdc, vdd) */
#define MAXS		4	/* max_snapshots while fuzzing */
#define NCTL		3	/* control files; slot 0 is never closed */
#define STAMP_LEN	(4 << 20)
#define HOLD_MS		600000	/* no watchdog but the one we provoke */
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

enum kind { K_PRIMARY, K_SCRATCH, K_IMAGE };

struct msnap {
	u32 id, index;
};

struct morigin {
	dev_t dev, store;
	enum kind kind;
	dev_t src_origin;	/* K_IMAGE: the snapshot whose image it is */
	u32 src_id;
	u32 chunk;
	u32 n;
	struct msnap s[MAXS];
	u32 last_id;
	int freezer;		/* control slot that froze it, -1: not frozen */
	bool timed_out;
	u32 dirty;		/* K_SCRATCH: chunks written since the newest snapshot */
	bool untracked;		/* the newest was deleted: dirty unknown */
	u64 dirty_map[64];	/* 4096 chunks of the written area */
};

/* What LIST and STATUS say. */
struct state {
	u32 n;
	struct volsnap_origin_info o[MAXO];
	u32 ns[MAXO];
	struct volsnap_snapshot_info s[MAXO][MAXS + 2];
};

/* A user buffer: [rw rw][unmapped][ro]. */
struct arena {
	char *base;	/* two read-write pages */
	char *hole;	/* unmapped */
	char *ro;	/* read-only */
};

static struct fz {
	struct __test_metadata *md;
	struct stamp_rng rng;
	u32 seed;
	unsigned long iter, iters, calls, ok, rejected, errs[256], bad;
	int ctl[NCTL];
	const char *disk[4];	/* vda vdb vdc vdd */
	int dfd[4];
	dev_t ddev[4];
	struct morigin m[MAXO];
	u32 nm;
	int hfd;		/* an image device we hold open, or -1 */
	dev_t h_origin;
	u32 h_id;
	u32 gone_ids[16];	/* ids deleted from vda */
	u32 ngone;
	int regfd, pipefd[2], chrfd, opathfd, closedfd;
	struct arena arg, arr;
	unsigned char *stamp;
	char desc[256];
	char hist[16][300];	/* the calls before a failure */
	unsigned int nhist;
	long old_max, old_hold;
} F;

static void bad(const char *fmt, ...)
{
	va_list ap;
	unsigned int i;

	if (!F.bad) {
		printf("# the last calls:\n");
		for (i = 0; i < ARRAY_SIZE(F.hist); i++)
			if (F.hist[(F.nhist + i) % ARRAY_SIZE(F.hist)][0])
				printf("#   %s\n",
				       F.hist[(F.nhist + i) % ARRAY_SIZE(F.hist)]);
		printf("# the kernel log's last lines:\n");
		fflush(stdout);
		if (system("dmesg | tail -n 12 | sed 's/^/#   /'"))
			printf("#   (no dmesg)\n");
	}
	printf("# FAIL step %lu (seed %u, VS_SEED=%u reproduces): %s: ",
	       F.iter, F.seed, F.seed, F.desc);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	F.bad++;
}

static u64 rnd(u64 n)
{
	return n ? stamp_rng_next(&F.rng) % n : 0;
}

static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

static void describe(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(F.desc, sizeof(F.desc), fmt, ap);
	va_end(ap);
	snprintf(F.hist[F.nhist++ % ARRAY_SIZE(F.hist)], sizeof(F.hist[0]),
		 "%lu: %s", F.iter, F.desc);
	if (getenv("VS_FUZZ_VERBOSE"))
		printf("# %lu: %s\n", F.iter, F.desc);
}

/* ------------------------------------------------------------------ */
/* The kernel's view                                                   */

static int raw(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static int get_state(struct state *st)
{
	struct volsnap_list l;
	struct volsnap_status s;
	u32 i;
	int ret;

	memset(st, 0, sizeof(*st));
	memset(&l, 0, sizeof(l));
	l.count = MAXO;
	l.origins = (uintptr_t)st->o;
	ret = raw(F.ctl[0], VOLSNAP_IOC_LIST, &l);
	if (ret)
		return ret;
	if (l.count > MAXO)
		return -1;
	st->n = l.count;
	for (i = 0; i < st->n; i++) {
		memset(&s, 0, sizeof(s));
		s.major = st->o[i].major;
		s.minor = st->o[i].minor;
		s.count = MAXS + 2;
		s.snapshots = (uintptr_t)st->s[i];
		ret = raw(F.ctl[0], VOLSNAP_IOC_STATUS, &s);
		if (ret)
			return ret;
		if (memcmp(&s.origin, &st->o[i], sizeof(s.origin)))
			return -1;
		st->ns[i] = s.count;
	}
	return 0;
}

static struct morigin *morigin(dev_t dev)
{
	u32 i;

	for (i = 0; i < F.nm; i++)
		if (F.m[i].dev == dev)
			return &F.m[i];
	return NULL;
}

static bool is_mstore(dev_t dev)
{
	u32 i;

	for (i = 0; i < F.nm; i++)
		if (F.m[i].store == dev)
			return true;
	return false;
}

static struct msnap *msnap(struct morigin *o, u32 id)
{
	u32 i;

	for (i = 0; o && i < o->n; i++)
		if (o->s[i].id == id)
			return &o->s[i];
	return NULL;
}

/* The model against what the kernel reports; one failure per mismatch. */
static void check_model(const struct state *st)
{
	u32 i, j;

	if (st->n != F.nm) {
		bad("%u origins listed, %u attached", st->n, F.nm);
		return;
	}
	for (i = 0; i < st->n; i++) {
		const struct volsnap_origin_info *r = &st->o[i];
		const struct morigin *o = &F.m[i];
		u32 state = (o->freezer >= 0 ? VOLSNAP_ORIGIN_FROZEN : 0) |
			    (o->timed_out ? VOLSNAP_ORIGIN_TIMED_OUT : 0);

		if (makedev(r->major, r->minor) != o->dev ||
		    makedev(r->store_major, r->store_minor) != o->store)
			bad("origin %u is %u:%u store %u:%u, expected %u:%u store %u:%u",
			    i, r->major, r->minor, r->store_major, r->store_minor,
			    major(o->dev), minor(o->dev), major(o->store),
			    minor(o->store));
		if (r->chunk_size != o->chunk || r->state != state)
			bad("%u:%u chunk %u state %#x, expected %u %#x", r->major,
			    r->minor, r->chunk_size, r->state, o->chunk, state);
		if (r->nr_snapshots != o->n || st->ns[i] != o->n)
			bad("%u:%u has %u snapshots (status %u), expected %u",
			    r->major, r->minor, r->nr_snapshots, st->ns[i], o->n);
		if (r->threshold > 100 || r->revert_id || r->pad2)
			bad("%u:%u: threshold %u, or revert or pad set",
			    r->major, r->minor, r->threshold);
		if (!r->origin_sectors || !r->store_chunks ||
		    r->store_used > r->store_chunks ||
		    (!o->n && r->store_used))
			bad("%u:%u: sectors %llu store %llu used %llu with %u snapshots",
			    r->major, r->minor, (unsigned long long)r->origin_sectors,
			    (unsigned long long)r->store_chunks,
			    (unsigned long long)r->store_used, o->n);
		for (j = 0; j < st->ns[i] && j < o->n; j++) {
			const struct volsnap_snapshot_info *s = &st->s[i][j];

			if (s->id != o->s[j].id || s->image_index != o->s[j].index ||
			    s->state || s->error || s->set_id ||
			    s->alone_chunks > s->chunks || !s->created_ns)
				bad("%u:%u snapshot %u: id %u volsnap%u state %#x error %d, "
				    "expected %u volsnap%u",
				    r->major, r->minor, j, s->id, s->image_index,
				    s->state, s->error, o->s[j].id, o->s[j].index);
			/* Older snapshots read every copy newer ones read. */
			if (j && s->chunks > st->s[i][j - 1].chunks)
				bad("%u:%u: snapshot %u reads %llu chunks, older %u %llu",
				    r->major, r->minor, s->id,
				    (unsigned long long)s->chunks, st->s[i][j - 1].id,
				    (unsigned long long)st->s[i][j - 1].chunks);
			if (s->chunks > r->store_used)
				bad("%u:%u: snapshot %u reads %llu chunks, store holds %llu",
				    r->major, r->minor, s->id,
				    (unsigned long long)s->chunks,
				    (unsigned long long)r->store_used);
		}
		if (o->kind == K_SCRATCH && o->n && !o->untracked &&
		    st->s[i][o->n - 1].chunks != o->dirty)
			bad("%u:%u: newest snapshot reads %llu chunks, %u written",
			    r->major, r->minor,
			    (unsigned long long)st->s[i][o->n - 1].chunks, o->dirty);
		if (o->kind == K_PRIMARY && r->store_used)
			bad("the origin is never written, store_used %llu",
			    (unsigned long long)r->store_used);
	}
}

/* ------------------------------------------------------------------ */
/* Model updates                                                       */

static void m_remove_origin(struct morigin *o)
{
	u32 i = o - F.m;

	if (F.hfd >= 0 && F.h_origin == o->dev) {
		close(F.hfd);
		F.hfd = -1;
	}
	memmove(&F.m[i], &F.m[i + 1], (F.nm - i - 1) * sizeof(F.m[0]));
	F.nm--;
}

static void m_remove_snap(struct morigin *o, u32 id)
{
	struct msnap *s = msnap(o, id);
	u32 i = s - o->s;

	if (F.hfd >= 0 && F.h_origin == o->dev && F.h_id == id) {
		close(F.hfd);
		F.hfd = -1;
	}
	if (o->kind == K_PRIMARY && F.ngone < ARRAY_SIZE(F.gone_ids))
		F.gone_ids[F.ngone++] = id;
	memmove(&o->s[i], &o->s[i + 1], (o->n - i - 1) * sizeof(o->s[0]));
	o->n--;
	/* The newest is gone: which chunks the next newest reads is unknown. */
	if (o->kind == K_SCRATCH && i == o->n)
		o->untracked = true;
}

static bool image_origin_orphaned(dev_t *store)
{
	u32 i;

	for (i = 0; i < F.nm; i++) {
		if (F.m[i].kind == K_IMAGE &&
		    !msnap(morigin(F.m[i].src_origin), F.m[i].src_id)) {
			*store = F.m[i].store;
			m_remove_origin(&F.m[i]);
			return true;
		}
	}
	return false;
}

/*
 * An image attached as an origin is detached by the module once its
 * snapshot is deleted (the device went away): wait until the kernel agrees
 * with the model.
 */
static void settle(struct state *st)
{
	dev_t stores[MAXO];
	u32 nstores = 0, k;
	bool cascade = false;
	int i, n, fd;

	while (nstores < MAXO && image_origin_orphaned(&stores[nstores])) {
		nstores++;
		cascade = true;
	}
	for (i = 0; i < 300; i++) {
		if (get_state(st)) {
			bad("LIST/STATUS failed");
			return;
		}
		if (st->n == F.nm && !cascade)
			break;
		if (st->n == F.nm) {
			u32 j;

			for (j = 0; j < F.nm; j++)
				if (makedev(st->o[j].major, st->o[j].minor) != F.m[j].dev)
					break;
			if (j == F.nm)
				break;
		}
		usleep(50000);
	}
	/*
	 * Such a detach leaves the list before it lets the store go: wait
	 * until the store can be claimed again.
	 */
	for (k = 0; k < nstores; k++) {
		for (i = 1; i < 4 && F.ddev[i] != stores[k]; i++)
			;
		for (n = 0; i < 4 && n < 200; n++) {
			fd = open(F.disk[i], O_RDONLY | O_EXCL | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
			if (fd >= 0 || errno != EBUSY)
				break;
			usleep(50000);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Calls and the oracle                                                */

static const int doc_generic[] = { EPERM, EFAULT, EINVAL };

static bool documented(unsigned long cmd, int err)
{
	static const int attach[] = { EBADF, ENOTBLK, EBUSY, EXDEV, ENOSPC,
				      ENOMEM, EIO, EROFS, EISDIR, EOPNOTSUPP,
				      ENODATA, ETXTBSY, 0 };
	static const int detach[] = { ENODEV, EBUSY, 0 };
	static const int create[] = { ENODEV, EMLINK, ETIMEDOUT, EBUSY, ENOMEM, 0 };
	static const int delete[] = { ENODEV, ENOENT, EBUSY, 0 };
	static const int freeze[] = { ENODEV, EBUSY, ETIMEDOUT, 0 };
	static const int thaw[] = { ENODEV, ETIMEDOUT, 0 };
	static const int status[] = { ENODEV, 0 };
	static const int none[] = { 0 };
	const int *set;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(doc_generic); i++)
		if (err == doc_generic[i])
			return true;
	switch (cmd) {
	case VOLSNAP_IOC_ATTACH:
		set = attach;
		break;
	case VOLSNAP_IOC_DETACH:
		set = detach;
		break;
	case VOLSNAP_IOC_CREATE:
		set = create;
		break;
	case VOLSNAP_IOC_DELETE:
		set = delete;
		break;
	case VOLSNAP_IOC_FREEZE:
		set = freeze;
		break;
	case VOLSNAP_IOC_THAW:
		set = thaw;
		break;
	case VOLSNAP_IOC_STATUS:
		set = status;
		break;
	case VOLSNAP_IOC_FEATURES:
	case VOLSNAP_IOC_LIST:
		set = none;
		break;
	default:
		return err == ENOTTY;
	}
	for (; *set; set++)
		if (err == *set)
			return true;
	return false;
}

/*
 * One call with the oracle: the result is @expect (or @alt), documented,
 * and a rejected call leaves LIST and STATUS as they were.
 */
static int call(int fd, unsigned long cmd, void *arg, int expect, int alt)
{
	struct state before, after;
	int got;

	if (get_state(&before)) {
		bad("LIST/STATUS failed before the ioctl");
		return -1;
	}
	got = raw(fd, cmd, arg);
	F.calls++;
	if (got) {
		F.rejected++;
		F.errs[got & 0xff]++;
	} else {
		F.ok++;
	}
	if (got && !documented(cmd, got))
		bad("errno %d (%s) is not documented for ioctl %#lx", got,
		    strerror(got), cmd);
	if (got != expect && got != alt)
		bad("returned %d (%s), expected %d (%s)", got,
		    got ? strerror(got) : "success", expect,
		    expect ? strerror(expect) : "success");
	if (got) {
		u32 i;

		if (get_state(&after)) {
			bad("LIST/STATUS failed after the ioctl");
			return got;
		}
		/* Reporting a watchdog thaw clears it: documented, once. */
		for (i = 0; got == ETIMEDOUT && i < MAXO; i++) {
			before.o[i].state &= ~VOLSNAP_ORIGIN_TIMED_OUT;
			after.o[i].state &= ~VOLSNAP_ORIGIN_TIMED_OUT;
		}
		if (memcmp(&before, &after, sizeof(before)))
			bad("rejected with %s, but LIST/STATUS changed "
			    "(origins %u -> %u, snapshots of the first %u -> %u)",
			    strerror(got), before.n, after.n, before.ns[0],
			    after.ns[0]);
	}
	return got;
}

/* ------------------------------------------------------------------ */
/* User memory                                                         */

static void arena_init(struct arena *a)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	a->base = p;
	a->hole = p + 2 * PG;
	a->ro = p + 3 * PG;
	munmap(a->hole, PG);
	mprotect(a->ro, PG, PROT_READ);
}

enum where { AT_RW, AT_NULL, AT_HOLE, AT_RO, AT_STRADDLE, AT_KERNEL, AT_NONCANON,
	     AT_NR };
static const char *const where_name[] = { "ok", "NULL", "unmapped",
	"read-only", "straddling", "kernel", "non-canonical" };

/*
 * Where a structure of @len bytes goes for a call. Its content is copied
 * there (a read-only page is made writable for a moment).
 */
static void *place(struct arena *a, enum where w, const void *src, size_t len)
{
	char *p;

	switch (w) {
	case AT_NULL:
		return NULL;
	case AT_HOLE:
		return a->hole + rnd(PG - len);
	case AT_KERNEL:
		return (void *)0xffff888000001000UL;
	case AT_NONCANON:
		return (void *)0x8000000000000000UL;
	case AT_RO:
		p = a->ro + 8 * rnd((PG - len) / 8);
		mprotect(a->ro, PG, PROT_READ | PROT_WRITE);
		memcpy(p, src, len);
		mprotect(a->ro, PG, PROT_READ);
		return p;
	case AT_STRADDLE:
		p = a->hole - 1 - rnd(len - 1);	/* [1, len - 1] bytes before */
		memcpy(p, src, a->hole - p);
		return p;
	default:
		/* Anywhere in the first page, aligned or not. */
		p = a->base + (chance(80) ? 8 * rnd((PG - len) / 8) : rnd(PG - len));
		memcpy(p, src, len);
		return p;
	}
}

static bool readable(enum where w)
{
	return w == AT_RW || w == AT_RO;
}

static enum where pick_where(void)
{
	return chance(75) ? AT_RW : (enum where)(1 + rnd(AT_NR - 1));
}

static bool nonzero(const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		if (*b++)
			return true;
	return false;
}

/* Set one byte of a region that must be zero. */
static void poison(void *field, size_t len)
{
	((unsigned char *)field)[rnd(len)] = 1 + rnd(255);
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */

static dev_t any_snapshot_image(dev_t *origin, u32 *id, u32 *index)
{
	u32 i, n = 0, k;

	for (i = 0; i < F.nm; i++)
		n += F.m[i].n;
	if (!n)
		return 0;
	k = rnd(n);
	for (i = 0; i < F.nm; i++) {
		if (k < F.m[i].n) {
			*origin = F.m[i].dev;
			*id = F.m[i].s[k].id;
			*index = F.m[i].s[k].index;
			return 1;
		}
		k -= F.m[i].n;
	}
	return 0;
}

static dev_t image_dev(u32 index)
{
	char path[32];
	struct stat st;
	int i;

	vs_image_path(index, path, sizeof(path));
	for (i = 0; i < 100; i++) {
		if (!stat(path, &st))
			return st.st_rdev;
		usleep(50000);
	}
	return 0;
}

/* A device number for an origin command, and whether it is attached. */
static void pick_dev(u32 *maj, u32 *min)
{
	dev_t d = 0, o;
	u32 id, idx;

	switch (rnd(10)) {
	case 0: /* a store */
		d = F.ddev[1];
		break;
	case 1: /* a scratch disk */
		d = F.ddev[2 + rnd(2)];
		break;
	case 2:
		*maj = major(F.m[0].dev) + (chance(50) ? 4096 : 0);
		*min = minor(F.m[0].dev) + (chance(50) ? 1 << 20 : 0);
		if (*maj == major(F.m[0].dev) && *min == minor(F.m[0].dev))
			*maj += 4096;
		return;
	case 3:
		*maj = chance(50) ? ~0U : (u32)rnd(1ULL << 32);
		*min = chance(50) ? ~0U : (u32)rnd(1ULL << 32);
		return;
	case 4:
		if (any_snapshot_image(&o, &id, &idx))
			d = image_dev(idx);
		break;
	default:
		break;
	}
	if (!d)
		d = F.m[rnd(F.nm)].dev;
	*maj = major(d);
	*min = minor(d);
}

static struct morigin *named(u32 maj, u32 min)
{
	if (maj > 4095 || min > 0xfffff)
		return NULL;
	return morigin(makedev(maj, min));
}

static int open_ctl_slot(void)
{
	int i = 1 + rnd(NCTL - 1);

	if (F.ctl[i] < 0)
		F.ctl[i] = vs_ctl_open();
	return i;
}

static void close_ctl_slot(int i)
{
	u32 j;

	if (i <= 0 || F.ctl[i] < 0)
		return;
	close(F.ctl[i]);
	F.ctl[i] = -1;
	for (j = 0; j < F.nm; j++)
		if (F.m[j].freezer == i)
			F.m[j].freezer = -1;	/* closing thaws */
}

/* ------------------------------------------------------------------ */
/* The commands                                                        */

static void do_features(void)
{
	struct volsnap_features f, *p;
	enum where w = pick_where();
	int expect = 0;

	memset(&f, 0, sizeof(f));
	if (chance(30)) {
		switch (rnd(4)) {
		case 0:
			f.flags = 1U << rnd(32);
			break;
		case 1:
			poison(&f.pad, sizeof(f.pad));
			break;
		case 2:
			poison(f.reserved, sizeof(f.reserved));
			break;
		default: /* output: ignored */
			f.features = rnd(~0ULL) | 1;
			break;
		}
		if (f.flags || f.pad || f.reserved[0] || f.reserved[1] ||
		    f.reserved[2] || f.reserved[3])
			expect = EINVAL;
	}
	if (!readable(w))
		expect = EFAULT;
	else if (w == AT_RO && !expect)
		expect = EFAULT;
	describe("FEATURES at %s, flags %#x", where_name[w], f.flags);
	p = place(&F.arg, w, &f, sizeof(f));
	if (!call(F.ctl[0], VOLSNAP_IOC_FEATURES, p, expect, -1) &&
	    (!(p->features & VOLSNAP_FEAT_ATTACH) || !p->version[0] ||
	     p->version[VOLSNAP_VERSION_LEN - 1] || p->flags || p->pad))
		bad("FEATURES output wrong");
}

enum fdkind { FD_DISK0, FD_DISK1, FD_DISK2, FD_DISK3, FD_IMAGE, FD_CLOSED,
	      FD_NEG, FD_HUGE, FD_REG, FD_PIPE, FD_CHR, FD_CTL, FD_OPATH,
	      FD_NR };
static const char *const fd_name[] = { "vda", "vdb", "vdc", "vdd", "image",
	"closed", "-1", "huge", "regular file", "pipe", "/dev/null", "control",
	"O_PATH" };

/* An fd of @k; *dev its block device (0 if not one); *err the fd's error. */
static int get_fd(enum fdkind k, dev_t *dev, int *err, u32 *img_index,
		  dev_t *img_origin, u32 *img_id, int *tmpfd)
{
	*dev = 0;
	*err = ENOTBLK;
	*tmpfd = -1;
	switch (k) {
	case FD_DISK0:
	case FD_DISK1:
	case FD_DISK2:
	case FD_DISK3:
		*dev = F.ddev[k];
		*err = 0;
		return F.dfd[k];
	case FD_IMAGE:
		if (!any_snapshot_image(img_origin, img_id, img_index))
			break;
		*tmpfd = vs_image_open(*img_index, O_RDONLY);
		if (*tmpfd < 0)
			break;
		*dev = image_dev(*img_index);
		*err = 0;
		return *tmpfd;
	case FD_CLOSED:
		*err = EBADF;
		return F.closedfd;
	case FD_NEG:
		*err = EBADF;
		return -1;
	case FD_HUGE:
		*err = EBADF;
		return 0x7fffffff;
	case FD_REG:
		return F.regfd;
	case FD_PIPE:
		return F.pipefd[rnd(2)];
	case FD_CHR:
		return F.chrfd;
	case FD_CTL:
		return F.ctl[0];
	case FD_OPATH: /* fget() refuses */
		*err = EBADF;
		return F.opathfd;
	default:
		break;
	}
	*err = EBADF;
	return F.closedfd;
}

static enum fdkind pick_fd(void)
{
	if (chance(70))
		return (enum fdkind)rnd(FD_IMAGE + 1);
	return (enum fdkind)rnd(FD_NR);
}

static bool chunk_ok(u32 c)
{
	return !c || (!(c & (c - 1)) && c >= VOLSNAP_CHUNK_MIN &&
		      c <= VOLSNAP_CHUNK_MAX && c >= PG);
}

static void do_attach(enum fdkind ok, enum fdkind sk, bool mutate)
{
	static const u32 chunks[] = { 0, 4096, 8192, 65536, 1 << 20, 1, 512,
		2048, 3 << 12, 2 << 20, 0x80000000, 0xffffffff, 65537 };
	struct volsnap_attach a, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	dev_t odev, sdev, img_origin = 0, s_origin;
	int oerr, serr, otmp, stmp, expect = 0, alt = -1;
	u32 img_index = 0, img_id = 0, s_index, s_id;
	struct morigin *src = NULL;

	memset(&a, 0, sizeof(a));
	a.origin_fd = get_fd(ok, &odev, &oerr, &img_index, &img_origin, &img_id,
			     &otmp);
	if (otmp >= 0)
		src = morigin(img_origin);
	a.store_fd = get_fd(sk, &sdev, &serr, &s_index, &s_origin, &s_id,
			    &stmp);
	a.chunk_size = chunks[rnd(chance(80) ? 5 : ARRAY_SIZE(chunks))];
	if (mutate && chance(20)) {
		if (chance(50))
			a.flags = 1U << rnd(32);
		else
			poison(a.reserved, sizeof(a.reserved));
	}
	if (!readable(w))
		expect = EFAULT;
	else if (a.flags || a.reserved[0] || a.reserved[1] || a.reserved[2] ||
		 a.reserved[3] || !chunk_ok(a.chunk_size))
		expect = EINVAL;
	else if (oerr)
		expect = oerr;
	else if (serr && sk != FD_REG)
		expect = serr;
	else if (morigin(odev) || is_mstore(odev))
		expect = EBUSY;
	else if (sk == FD_REG)
		expect = EOPNOTSUPP;	/* a store file on /tmp: no block device */
	else if (odev == sdev)
		expect = EINVAL;
	else if (morigin(sdev) || is_mstore(sdev))
		expect = EBUSY;
	else if (stmp >= 0)
		expect = EROFS;	/* an image cannot be opened for writing */

	describe("ATTACH at %s, origin %s, store %s, chunk %u, flags %#x",
		 where_name[w], fd_name[ok], fd_name[sk], a.chunk_size, a.flags);
	p = place(&F.arg, w, &a, sizeof(a));
	if (!call(F.ctl[0], VOLSNAP_IOC_ATTACH, p, expect, alt) && !expect) {
		struct morigin *o = &F.m[F.nm++];

		memset(o, 0, sizeof(*o));
		o->dev = odev;
		o->store = sdev;
		o->chunk = a.chunk_size ? a.chunk_size : VOLSNAP_CHUNK_DEFAULT;
		o->freezer = -1;
		o->kind = ok == FD_DISK0 ? K_PRIMARY :
			  ok == FD_IMAGE ? K_IMAGE : K_SCRATCH;
		if (o->kind == K_IMAGE) {
			o->src_origin = src->dev;
			o->src_id = img_id;
		}
	}
	if (otmp >= 0)
		close(otmp);
	if (stmp >= 0)
		close(stmp);
}

/* DETACH, FREEZE or THAW. */
static void do_origin_cmd(unsigned long cmd, int slot, bool mutate)
{
	const char *name = cmd == VOLSNAP_IOC_DETACH ? "DETACH" :
			   cmd == VOLSNAP_IOC_FREEZE ? "FREEZE" : "THAW";
	u32 allowed = cmd == VOLSNAP_IOC_DETACH ? VOLSNAP_DETACH_FORCE : 0;
	struct volsnap_origin_cmd c, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	struct morigin *o;
	int expect;

	memset(&c, 0, sizeof(c));
	if (mutate) {
		pick_dev(&c.major, &c.minor);
	} else {
		o = &F.m[rnd(F.nm)];
		c.major = major(o->dev);
		c.minor = minor(o->dev);
	}
	if (chance(cmd == VOLSNAP_IOC_DETACH ? 50 : 5))
		c.flags = VOLSNAP_DETACH_FORCE;
	if (mutate && chance(25)) {
		switch (rnd(3)) {
		case 0:
			c.flags |= 1U << rnd(32);
			break;
		case 1:
			poison(&c.pad, sizeof(c.pad));
			break;
		default:
			poison(c.reserved, sizeof(c.reserved));
			break;
		}
	}
	o = named(c.major, c.minor);
	if (!readable(w))
		expect = EFAULT;
	else if ((c.flags & ~allowed) || c.pad || c.reserved[0] || c.reserved[1])
		expect = EINVAL;
	else if (!o)
		expect = ENODEV;
	else if (cmd == VOLSNAP_IOC_DETACH)
		expect = o->n && !(c.flags & VOLSNAP_DETACH_FORCE) ? EBUSY : 0;
	else if (cmd == VOLSNAP_IOC_FREEZE)
		expect = o->freezer >= 0 ? EBUSY : 0;
	else
		expect = o->freezer >= 0 ? 0 : o->timed_out ? ETIMEDOUT : EINVAL;

	describe("%s at %s via slot %d, %u:%u, flags %#x", name, where_name[w],
		 slot, c.major, c.minor, c.flags);
	p = place(&F.arg, w, &c, sizeof(c));
	call(F.ctl[slot], cmd, p, expect, -1);
	if (expect && expect != ETIMEDOUT)
		return;
	if (cmd == VOLSNAP_IOC_DETACH) {
		while (o->n)
			m_remove_snap(o, o->s[o->n - 1].id);
		m_remove_origin(o);
	} else if (cmd == VOLSNAP_IOC_FREEZE) {
		o->freezer = slot;
		o->timed_out = false;
	} else {
		o->freezer = -1;
		o->timed_out = false;
	}
}

static void do_create(int slot, bool mutate)
{
	struct volsnap_create c, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	struct morigin *o;
	bool frozen, bad_fields;
	int expect, got, alt = -1;

	memset(&c, 0, sizeof(c));
	if (mutate) {
		pick_dev(&c.major, &c.minor);
	} else {
		o = &F.m[rnd(F.nm)];
		c.major = major(o->dev);
		c.minor = minor(o->dev);
	}
	o = named(c.major, c.minor);
	if (chance(o && o->freezer >= 0 ? 80 : 10))
		c.flags = VOLSNAP_CREATE_FROZEN;
	if (mutate && chance(25)) {
		switch (rnd(5)) {
		case 0:	/* a bit CREATE does not know (not FROZEN, WRITABLE) */
			c.flags |= 1U << (2 + rnd(30));
			break;
		case 1:
			poison(&c.pad, sizeof(c.pad));
			break;
		case 2:
			poison(c.reserved, sizeof(c.reserved));
			break;
		case 3: /* id .. image_minor */
			poison(&c.id, 4 * sizeof(u32));
			break;
		default:
			poison(&c.hold_ns, sizeof(c.hold_ns));
			break;
		}
	}
	frozen = c.flags & VOLSNAP_CREATE_FROZEN;
	bad_fields = (c.flags & ~(VOLSNAP_CREATE_FROZEN | VOLSNAP_CREATE_WRITABLE)) ||
		     c.pad || c.id ||
		     c.image_index || c.image_major || c.image_minor ||
		     c.hold_ns || nonzero(c.reserved, sizeof(c.reserved));
	if (!readable(w))
		expect = EFAULT;
	else if (bad_fields)
		expect = EINVAL;
	else if (!o)
		expect = ENODEV;
	else if (frozen && o->timed_out)
		expect = ETIMEDOUT;
	else if (frozen && o->freezer < 0)
		expect = EINVAL;
	else if (!frozen && o->freezer >= 0)
		expect = EBUSY;
	else if (o->n >= MAXS)
		expect = EMLINK;
	else
		expect = 0;
	/*
	 * The result cannot be returned: EFAULT, and no snapshot. Whether
	 * EFAULT comes before the other errors is not documented.
	 */
	if (w == AT_RO && expect != EFAULT && expect != EINVAL) {
		alt = expect ? EFAULT : -1;
		expect = expect ? expect : EFAULT;
	} else if (w == AT_RO && expect == EINVAL && !bad_fields) {
		alt = EFAULT;
	}

	describe("CREATE at %s via slot %d, %u:%u, flags %#x", where_name[w],
		 slot, c.major, c.minor, c.flags);
	p = place(&F.arg, w, &c, sizeof(c));
	got = call(F.ctl[slot], VOLSNAP_IOC_CREATE, p, expect, alt);
	if (got == ETIMEDOUT)
		o->timed_out = false;
	if (got || expect)
		return;
	if (p->id <= o->last_id || !p->hold_ns || p->flags != c.flags ||
	    p->major != c.major || p->minor != c.minor || p->pad) {
		bad("CREATE output: id %u after %u, hold %llu", p->id,
		    o->last_id, (unsigned long long)p->hold_ns);
		return;
	}
	if (image_dev(p->image_index) != makedev(p->image_major, p->image_minor))
		bad("/dev/volsnap%u is not %u:%u", p->image_index,
		    p->image_major, p->image_minor);
	o->last_id = p->id;
	o->s[o->n].id = p->id;
	o->s[o->n].index = p->image_index;
	o->n++;
	o->dirty = 0;
	o->untracked = false;
	memset(o->dirty_map, 0, sizeof(o->dirty_map));
}

static void do_delete(bool mutate)
{
	struct volsnap_delete d, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	struct morigin *o;
	struct msnap *s;
	bool busy;
	int expect;

	memset(&d, 0, sizeof(d));
	if (mutate && chance(30)) {
		pick_dev(&d.major, &d.minor);
	} else {
		o = &F.m[rnd(F.nm)];
		d.major = major(o->dev);
		d.minor = minor(o->dev);
	}
	o = named(d.major, d.minor);
	switch (rnd(mutate ? 6 : 1)) {
	case 1:
		d.id = F.ngone ? F.gone_ids[rnd(F.ngone)] : 0;
		break;
	case 2:
		d.id = ~0U - rnd(2);
		break;
	case 3:
		d.id = 0;
		break;
	case 4:
		d.id = o ? o->last_id + 1 : 1;
		break;
	default:
		d.id = o && o->n ? o->s[rnd(o->n)].id : 1;
		break;
	}
	if (chance(40))
		d.flags = VOLSNAP_DELETE_FORCE;
	if (mutate && chance(20)) {
		if (chance(50))
			d.flags |= 1U << rnd(32);
		else
			poison(d.reserved, sizeof(d.reserved));
	}
	s = msnap(o, d.id);
	busy = s && ((F.hfd >= 0 && F.h_origin == o->dev && F.h_id == d.id));
	for (u32 i = 0; s && i < F.nm; i++)
		if (F.m[i].kind == K_IMAGE && F.m[i].src_origin == o->dev &&
		    F.m[i].src_id == d.id)
			busy = true;	/* the module holds it open */
	if (!readable(w))
		expect = EFAULT;
	else if ((d.flags & ~VOLSNAP_DELETE_FORCE) || d.reserved[0] || d.reserved[1])
		expect = EINVAL;
	else if (!o)
		expect = ENODEV;
	else if (!s)
		expect = ENOENT;
	else if (busy && !(d.flags & VOLSNAP_DELETE_FORCE))
		expect = EBUSY;
	else
		expect = 0;

	describe("DELETE at %s, %u:%u id %u, flags %#x", where_name[w], d.major,
		 d.minor, d.id, d.flags);
	p = place(&F.arg, w, &d, sizeof(d));
	if (!call(F.ctl[0], VOLSNAP_IOC_DELETE, p, expect, -1) && !expect)
		m_remove_snap(o, d.id);
}

/* Count and array pointer of LIST/STATUS; returns the pointer. */
static u64 pick_array(size_t entry, u32 have, u32 *count, const char **what,
		      u32 *first_bad)
{
	static const u32 counts[] = { 0, 1, 2, 3, 4, 5, 0x7fffffff, 0xffffffff };
	char *p;
	size_t max = 2 * PG / entry;
	u32 r = rnd(8);

	*count = chance(30) ? counts[rnd(ARRAY_SIZE(counts))] : have + rnd(3);
	*first_bad = ~0U;	/* index of the first entry that cannot be written */
	memset(F.arr.base, 0xa5, 2 * PG);
	switch (r) {
	case 0:
		*what = "NULL";
		*first_bad = 0;
		return 0;
	case 1:
		*what = "unmapped";
		*first_bad = 0;
		return (uintptr_t)F.arr.hole;
	case 2:
		*what = "read-only";
		*first_bad = 0;
		return (uintptr_t)F.arr.ro;
	case 3: {
		u32 k = rnd(have + 1);	/* entry k straddles the hole */

		*what = "straddling";
		*first_bad = k;
		return (uintptr_t)(F.arr.hole - k * entry - 1 - rnd(entry - 1));
	}
	case 4:
		*what = "kernel";
		*first_bad = 0;
		return 0xffff888000002000ULL;
	default:
		*what = "ok";
		p = F.arr.base + (chance(70) ? 8 : 1) * rnd(16);
		if (max < have)
			abort();
		return (uintptr_t)p;
	}
}

/* Entries past the copied ones must be untouched. */
static void check_canary(u64 ptr, size_t entry, u32 copied)
{
	const unsigned char *p = (const unsigned char *)(uintptr_t)ptr + entry * copied;
	const unsigned char *end = (const unsigned char *)F.arr.base + 2 * PG;

	if ((uintptr_t)ptr < (uintptr_t)F.arr.base || (const unsigned char *)(uintptr_t)ptr >= end)
		return;

	for (; p < end; p++) {
		if (*p != 0xa5) {
			bad("byte %td after the %u copied entries was written",
			    p - (const unsigned char *)(uintptr_t)ptr, copied);
			return;
		}
	}
}

static void do_list(bool mutate)
{
	struct volsnap_list l, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	struct state st;
	const char *what;
	u32 first_bad, copy;
	int expect = 0;

	memset(&l, 0, sizeof(l));
	l.origins = pick_array(sizeof(struct volsnap_origin_info), F.nm,
			       &l.count, &what, &first_bad);
	if (mutate && chance(15)) {
		if (chance(50))
			l.flags = 1U << rnd(32);
		else
			poison(l.reserved, sizeof(l.reserved));
	}
	copy = l.count < F.nm ? l.count : F.nm;
	if (!readable(w))
		expect = EFAULT;
	else if (l.flags || l.reserved[0] || l.reserved[1])
		expect = EINVAL;
	else if (w == AT_RO || first_bad < copy)
		expect = EFAULT;

	describe("LIST at %s, array %s, count %u, flags %#x", where_name[w],
		 what, l.count, l.flags);
	p = place(&F.arg, w, &l, sizeof(l));
	if (call(F.ctl[0], VOLSNAP_IOC_LIST, p, expect, -1) || expect)
		return;
	if (p->count != F.nm || p->origins != l.origins || p->flags ||
	    p->reserved[0] || p->reserved[1]) {
		bad("LIST returned count %u for %u origins", p->count, F.nm);
		return;
	}
	if (get_state(&st))
		return;
	if (copy && memcmp((void *)(uintptr_t)l.origins, st.o,
			   copy * sizeof(st.o[0])))
		bad("LIST entries differ from a plain LIST");
	if (l.origins)
		check_canary(l.origins, sizeof(st.o[0]), copy);
}

static void do_status(bool mutate)
{
	struct volsnap_status s, *p;
	enum where w = mutate ? pick_where() : AT_RW;
	struct morigin *o;
	struct state st;
	const char *what;
	u32 first_bad, copy, i;
	int expect = 0, alt = -1;

	memset(&s, 0, sizeof(s));
	if (mutate && chance(30)) {
		pick_dev(&s.major, &s.minor);
	} else {
		o = &F.m[rnd(F.nm)];
		s.major = major(o->dev);
		s.minor = minor(o->dev);
	}
	o = named(s.major, s.minor);
	s.snapshots = pick_array(sizeof(struct volsnap_snapshot_info),
				 o ? o->n : 0, &s.count, &what, &first_bad);
	if (mutate && chance(15)) {
		switch (rnd(3)) {
		case 0:
			s.flags = 1U << rnd(32);
			break;
		case 1:
			poison(s.reserved, sizeof(s.reserved));
			break;
		default:
			poison(&s.origin, sizeof(s.origin));
			break;
		}
	}
	copy = o ? (s.count < o->n ? s.count : o->n) : 0;
	if (!readable(w))
		expect = EFAULT;
	else if (s.flags || s.reserved[0] || s.reserved[1] ||
		 nonzero(&s.origin, sizeof(s.origin)))
		expect = EINVAL;
	else if (!o)
		expect = ENODEV;
	else if (w == AT_RO || first_bad < copy)
		expect = EFAULT;
	if (expect == ENODEV && w == AT_RO)
		alt = EFAULT;

	describe("STATUS at %s, %u:%u, array %s, count %u, flags %#x",
		 where_name[w], s.major, s.minor, what, s.count, s.flags);
	p = place(&F.arg, w, &s, sizeof(s));
	if (call(F.ctl[0], VOLSNAP_IOC_STATUS, p, expect, alt) || expect)
		return;
	if (get_state(&st))
		return;
	i = o - F.m;
	if (p->count != o->n || p->snapshots != s.snapshots || p->flags ||
	    p->major != s.major || p->minor != s.minor ||
	    memcmp(&p->origin, &st.o[i], sizeof(p->origin))) {
		bad("STATUS returned count %u for %u snapshots, or another origin",
		    p->count, o->n);
		return;
	}
	if (copy && memcmp((void *)(uintptr_t)s.snapshots, st.s[i],
			   copy * sizeof(st.s[i][0])))
		bad("STATUS entries differ from a plain STATUS");
	if (s.snapshots)
		check_canary(s.snapshots, sizeof(st.s[i][0]), copy);
}

/* Command numbers that are none of ours: ENOTTY, nothing changed. */
static void do_bad_number(void)
{
	static const unsigned long cmds[] = {
		VOLSNAP_IOC_FEATURES, VOLSNAP_IOC_ATTACH, VOLSNAP_IOC_DETACH,
		VOLSNAP_IOC_CREATE, VOLSNAP_IOC_DELETE, VOLSNAP_IOC_FREEZE,
		VOLSNAP_IOC_THAW, VOLSNAP_IOC_LIST, VOLSNAP_IOC_STATUS,
		VOLSNAP_IOC_CREATE_SET,
	};
	unsigned long cmd = cmds[rnd(ARRAY_SIZE(cmds))], size = _IOC_SIZE(cmd);
	unsigned int dir = _IOC_DIR(cmd), nr = _IOC_NR(cmd), type = _IOC_TYPE(cmd);
	char buf[256];

	switch (rnd(5)) {
	case 0:	/* size off by a little or a lot */
		size = chance(50) ? size + (chance(50) ? 8 : -8) : rnd(1 << 14);
		if (size == _IOC_SIZE(cmd))
			size += 4;
		break;
	case 1:	/* another direction */
		dir = (dir + 1 + rnd(3)) & 3;
		break;
	case 2:	/* an unknown number */
		nr = 10 + rnd(246);
		break;
	case 3:	/* a neighbouring magic */
		type = chance(50) ? 0xb6 : 0xb8;
		break;
	default: /* everything random, kept off the VFS's own numbers */
		dir = rnd(4);
		size = rnd(1 << 14);
		nr = rnd(256);
		type = 0xb7;
		if (nr < 10)
			nr += 10;	/* no size or direction of ours */
		break;
	}
	cmd = _IOC(dir, type, nr, size);
	memset(buf, 0, sizeof(buf));
	describe("ioctl %#lx (dir %u, type %#x, nr %#x, size %lu)", cmd, dir,
		 type, nr, size);
	call(F.ctl[0], cmd, chance(50) ? (void *)buf : NULL, ENOTTY, -1);
}

/* A caller without CAP_SYS_ADMIN: EPERM for everything. */
static void do_eperm(void)
{
	struct state before, after;
	pid_t pid;
	int status;

	describe("a caller without CAP_SYS_ADMIN");
	if (get_state(&before))
		return;
	pid = fork();
	if (!pid) {
		struct volsnap_origin_cmd c = { 0 };
		struct volsnap_create cr = { 0 };
		struct volsnap_features f = { 0 };

		c.major = major(F.m[0].dev);
		cr.major = c.major;
		c.minor = minor(F.m[0].dev);
		cr.minor = c.minor;
		c.flags = VOLSNAP_DETACH_FORCE;
		if (vs_drop_sys_admin())
			_exit(2);
		_exit(raw(F.ctl[0], VOLSNAP_IOC_DETACH, &c) == EPERM &&
		      raw(F.ctl[0], VOLSNAP_IOC_CREATE, &cr) == EPERM &&
		      raw(F.ctl[0], VOLSNAP_IOC_FEATURES, &f) == EPERM ? 0 : 1);
	}
	F.calls += 3;
	F.rejected += 3;
	F.errs[EPERM] += 3;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		bad("without CAP_SYS_ADMIN: not EPERM (child status %#x)", status);
	if (get_state(&after) || memcmp(&before, &after, sizeof(before)))
		bad("calls refused with EPERM changed LIST/STATUS");
}

/* The watchdog: a freeze longer than the hold limit is thawed and fails. */
static void do_watchdog(void)
{
	struct morigin *o = &F.m[rnd(F.nm)];
	struct volsnap_origin_cmd c = { 0 };
	struct volsnap_create cr = { 0 };
	struct state st;
	int slot = open_ctl_slot(), i;

	if (o->freezer >= 0)
		return;
	c.major = major(o->dev);
	cr.major = c.major;
	c.minor = minor(o->dev);
	cr.minor = c.minor;
	vs_param_set("hold_limit_ms", 500);
	describe("FREEZE %u:%u with a 500 ms hold limit", c.major, c.minor);
	/* A slow guest may not drain within the limit: that is documented. */
	if (call(F.ctl[slot], VOLSNAP_IOC_FREEZE, &c, 0, ETIMEDOUT)) {
		vs_param_set("hold_limit_ms", HOLD_MS);
		return;
	}
	o->freezer = -1;
	o->timed_out = true;
	describe("the watchdog thaws %u:%u", c.major, c.minor);
	for (i = 0; i < 200; i++) {
		usleep(50000);
		if (get_state(&st))
			break;
		if (st.o[o - F.m].state & VOLSNAP_ORIGIN_TIMED_OUT)
			break;
	}
	vs_param_set("hold_limit_ms", HOLD_MS);
	check_model(&st);
	if (chance(50)) {
		do_origin_cmd(VOLSNAP_IOC_THAW, slot, false);
		return;
	}
	cr.flags = VOLSNAP_CREATE_FROZEN;
	describe("CREATE FROZEN after the watchdog, %u:%u", cr.major, cr.minor);
	call(F.ctl[slot], VOLSNAP_IOC_CREATE, &cr, ETIMEDOUT, -1);
	o->timed_out = false;
}

/* Sequences of valid calls in orders that matter. */
static void do_sequence(void)
{
	struct morigin *o = &F.m[rnd(F.nm)];
	dev_t dev = o->dev;
	int slot;
	u32 id;

	switch (rnd(6)) {
	case 0:	/* freeze, create inside it, close the freezing file */
		slot = open_ctl_slot();
		if (o->freezer >= 0)
			break;
		{
			struct volsnap_origin_cmd c = { 0 };
			struct volsnap_create cr = { 0 };

			c.major = major(dev);
			cr.major = c.major;
			c.minor = minor(dev);
			cr.minor = c.minor;
			cr.flags = VOLSNAP_CREATE_FROZEN;
			describe("sequence: FREEZE %u:%u via slot %d", c.major,
				 c.minor, slot);
			if (call(F.ctl[slot], VOLSNAP_IOC_FREEZE, &c, 0, -1))
				break;
			o->freezer = slot;
			o->timed_out = false;
			describe("sequence: CREATE FROZEN %u:%u", c.major, c.minor);
			if (o->n < MAXS &&
			    !call(F.ctl[rnd(2) ? slot : 0], VOLSNAP_IOC_CREATE,
				  &cr, 0, -1)) {
				o->s[o->n].id = cr.id;
				o->s[o->n].index = cr.image_index;
				o->last_id = cr.id;
				o->n++;
				o->dirty = 0;
				o->untracked = false;
				memset(o->dirty_map, 0, sizeof(o->dirty_map));
			}
			describe("sequence: close the file that froze %u:%u",
				 c.major, c.minor);
			close_ctl_slot(slot);
		}
		break;
	case 1:	/* delete twice */
		if (!o->n)
			break;
		id = o->s[o->n - 1].id;
		{
			struct volsnap_delete d = { 0 };

			d.major = major(dev);
			d.minor = minor(dev);
			d.id = id;
			d.flags = VOLSNAP_DELETE_FORCE;
			describe("sequence: DELETE %u:%u id %u", d.major, d.minor, id);
			if (!call(F.ctl[0], VOLSNAP_IOC_DELETE, &d, 0, -1))
				m_remove_snap(o, id);
			describe("sequence: DELETE %u:%u id %u again", d.major,
				 d.minor, id);
			call(F.ctl[0], VOLSNAP_IOC_DELETE, &d, ENOENT, -1);
		}
		break;
	case 2:	/* detach with snapshots: refused, then forced */
		if (!o->n)
			break;
		{
			struct volsnap_origin_cmd c = { 0 };

			c.major = major(dev);
			c.minor = minor(dev);
			describe("sequence: DETACH %u:%u with %u snapshots",
				 c.major, c.minor, o->n);
			call(F.ctl[0], VOLSNAP_IOC_DETACH, &c, EBUSY, -1);
			c.flags = VOLSNAP_DETACH_FORCE;
			describe("sequence: DETACH FORCE %u:%u", c.major, c.minor);
			if (!call(F.ctl[0], VOLSNAP_IOC_DETACH, &c, 0, -1)) {
				while (o->n)
					m_remove_snap(o, o->s[o->n - 1].id);
				m_remove_origin(o);
			}
		}
		break;
	case 3:	/* close a control file (thaws what it froze) */
		slot = 1 + rnd(NCTL - 1);
		describe("sequence: close control slot %d", slot);
		close_ctl_slot(slot);
		break;
	case 4:	/* hold an image open, or let it go */
		if (F.hfd >= 0) {
			describe("sequence: close the held image");
			close(F.hfd);
			F.hfd = -1;
		} else {
			u32 index;

			if (!any_snapshot_image(&F.h_origin, &F.h_id, &index))
				break;
			describe("sequence: hold volsnap%u open", index);
			F.hfd = vs_image_open(index, O_RDONLY);
			if (F.hfd < 0)
				bad("cannot open volsnap%u: %s", index,
				    strerror(-F.hfd));
		}
		break;
	default:
		do_watchdog();
		break;
	}
}

/* A write to an attached scratch disk: gives the store something to do. */
static void do_write(void)
{
	static char *buf;
	struct morigin *o = NULL;
	u32 i, chunk;
	int fd, k;

	for (i = 0; i < F.nm; i++)
		if (F.m[i].kind == K_SCRATCH && F.m[i].freezer < 0 &&
		    !F.m[i].untracked)
			o = &F.m[i];
	if (!o)
		return;
	if (!buf && posix_memalign((void **)&buf, PG, PG))
		abort();
	memset(buf, (int)rnd(256), PG);
	k = F.ddev[2] == o->dev ? 2 : 3;
	chunk = rnd(((vs_dev_sectors(F.disk[k]) << 9) / o->chunk) < 4096 ?
		    (vs_dev_sectors(F.disk[k]) << 9) / o->chunk : 4096);
	describe("write 4 KiB to chunk %u of %s", chunk, F.disk[k]);
	fd = open(F.disk[k], O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, buf, PG, (off_t)chunk * o->chunk) != PG) {
		bad("write to %s failed: %s", F.disk[k], strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (o->n && !(o->dirty_map[chunk / 64] & (1ULL << (chunk % 64)))) {
		o->dirty_map[chunk / 64] |= 1ULL << (chunk % 64);
		o->dirty++;
	}
}

/* Wait until the copies of the writes above are in the map. */
static void settle_copies(struct state *st)
{
	u32 i;
	int n;

	for (n = 0; n < 100; n++) {
		bool done = true;

		for (i = 0; i < F.nm && i < st->n; i++)
			if (F.m[i].kind == K_SCRATCH && F.m[i].n &&
			    !F.m[i].untracked &&
			    st->s[i][F.m[i].n - 1].chunks != F.m[i].dirty)
				done = false;
		if (done)
			return;
		usleep(20000);
		if (get_state(st))
			return;
	}
}

/* The primary origin and every live image of it read the stamp. */
static void verify_stamp(bool all)
{
	static unsigned char *buf;
	struct morigin *o = morigin(F.ddev[0]);
	u32 i;
	int fd;

	if (!buf && posix_memalign((void **)&buf, PG, STAMP_LEN))
		abort();
	describe("verify the stamp on %s", F.disk[0]);
	fd = open(F.disk[0], O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || pread(fd, buf, STAMP_LEN, 0) != STAMP_LEN ||
	    memcmp(buf, F.stamp, STAMP_LEN))
		bad("the origin's stamped region changed");
	if (fd >= 0)
		close(fd);
	for (i = 0; o && i < o->n; i++) {
		if (!all && i != rnd(o->n))
			continue;
		describe("verify the stamp through volsnap%u (snapshot %u)",
			 o->s[i].index, o->s[i].id);
		fd = vs_image_open(o->s[i].index, O_RDONLY | O_DIRECT);
		if (fd < 0 || pread(fd, buf, STAMP_LEN, 0) != STAMP_LEN ||
		    memcmp(buf, F.stamp, STAMP_LEN))
			bad("volsnap%u does not read the stamp", o->s[i].index);
		if (fd >= 0)
			close(fd);
	}
}

/* ------------------------------------------------------------------ */

static void step(void)
{
	struct state st;
	int slot;

	/* The primary origin is attached at every step's start. */
	if (!morigin(F.ddev[0]))
		do_attach(FD_DISK0, FD_DISK1, false);
	if (F.bad || !morigin(F.ddev[0]))
		return;
	switch (rnd(20)) {
	case 0:
		do_features();
		break;
	case 1:
	case 2:
		do_attach(pick_fd(), pick_fd(), true);
		break;
	case 3:
		do_attach(FD_DISK2 + rnd(2), FD_DISK2 + rnd(2), false);
		break;
	case 4:
		do_attach(FD_IMAGE, FD_DISK2 + rnd(2), false);
		break;
	case 5:
		do_origin_cmd(VOLSNAP_IOC_DETACH, 0, chance(70));
		break;
	case 6:
	case 7:
		slot = chance(50) ? 0 : open_ctl_slot();
		do_origin_cmd(VOLSNAP_IOC_FREEZE, slot, chance(50));
		break;
	case 8:
		do_origin_cmd(VOLSNAP_IOC_THAW, chance(70) ? 0 : open_ctl_slot(),
			      chance(50));
		break;
	case 9:
	case 10:
		do_create(chance(70) ? 0 : open_ctl_slot(), chance(60));
		break;
	case 11:
	case 12:
		do_delete(chance(70));
		break;
	case 13:
		do_list(chance(60));
		break;
	case 14:
		do_status(chance(60));
		break;
	case 15:
		do_bad_number();
		break;
	case 16:
		do_write();
		break;
	case 17:
		if (!rnd(8))
			do_eperm();
		else
			do_sequence();
		break;
	case 18:
		do_sequence();
		break;
	default:
		if (!rnd(4))
			verify_stamp(false);
		else
			do_status(true);
		break;
	}
	settle(&st);
	settle_copies(&st);
	check_model(&st);
}

static unsigned long iterations(void)
{
	const char *e = getenv("VS_FUZZ_ITERS");

	if (e && *e)
		return strtoul(e, NULL, 0);
	return vs_scaled(1500, 300);
}

/* The lines of a kmemleak report that name a leaked object. */
static char *kmemleak_objects(void)
{
	char line[256], *out = calloc(1, 1);
	size_t len = 0;
	FILE *f;

	f = fopen(KMEMLEAK, "r");
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "unreferenced object", 19))
			continue;
		out = realloc(out, len + strlen(line) + 1);
		strcpy(out + len, line);
		len += strlen(line);
	}
	fclose(f);
	return out;
}

/* Objects in @after not in @before, printed; their number. */
static int new_leaks(const char *before, char *after)
{
	char *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(after, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(before, line))
			continue;
		printf("# kmemleak: new %s\n", line);
		n++;
	}
	return n;
}

static void kmemleak_scan(void)
{
	int fd = open(KMEMLEAK, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "scan", 4) != 4)
			printf("# kmemleak scan: %s\n", strerror(errno));
		close(fd);
	}
}

static void setup(struct __test_metadata *_metadata)
{
	static const char *const env[] = { "VS_DISK_ORIGIN", "VS_DISK_STORE",
		"VS_DISK_SCRATCH1", "VS_DISK_SCRATCH2" };
	static const char *const def[] = { "/dev/vda", "/dev/vdb", "/dev/vdc",
		"/dev/vdd" };
	struct stamp_rng r;
	char tmpl[] = "/tmp/fuzzXXXXXX";
	int i, fd;

	F.md = _metadata;
	F.seed = stamp_seed();
	stamp_rng_init(&F.rng, F.seed);
	F.iters = iterations();
	printf("# seed %u (rerun with VS_SEED=%u), %lu steps (VS_FUZZ_ITERS)\n",
	       F.seed, F.seed, F.iters);
	ASSERT_EQ(0, vs_module_load());
	F.ctl[0] = vs_ctl_open();
	ASSERT_LE(0, F.ctl[0]);
	F.ctl[1] = -1;
	F.ctl[2] = F.ctl[1];
	i = vs_detach_all(F.ctl[0]);
	if (i > 0)
		TH_LOG("detached %d origin(s) an earlier test left attached", i);
	F.old_max = vs_param_get("max_snapshots");
	F.old_hold = vs_param_get("hold_limit_ms");
	ASSERT_EQ(0, vs_param_set("max_snapshots", MAXS));
	ASSERT_EQ(0, vs_param_set("hold_limit_ms", HOLD_MS));
	for (i = 0; i < 4; i++) {
		unsigned int ma, mi;

		F.disk[i] = vs_disk(env[i], def[i]);
		if (i)
			ASSERT_EQ(0, vs_wipe_store(F.disk[i]));
		F.dfd[i] = open(F.disk[i], O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, F.dfd[i]);
		ASSERT_EQ(0, vs_devno(F.disk[i], &ma, &mi));
		F.ddev[i] = makedev(ma, mi);
	}

	/* The stamp: the one write to the origin, before attach. */
	ASSERT_EQ(0, posix_memalign((void **)&F.stamp, PG, STAMP_LEN));
	stamp_rng_init(&r, F.seed ^ 0x5eed);
	for (i = 0; i < STAMP_LEN / 8; i++)
		((u64 *)F.stamp)[i] = stamp_rng_next(&r);
	fd = open(F.disk[0], O_WRONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(STAMP_LEN, pwrite(fd, F.stamp, STAMP_LEN, 0));
	close(fd);

	/* The zoo of descriptors of the wrong kind. */
	F.regfd = mkstemp(tmpl);
	ASSERT_LE(0, F.regfd);
	unlink(tmpl);
	ASSERT_EQ(0, pipe(F.pipefd));
	F.chrfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, F.chrfd);
	F.opathfd = open(F.disk[0], O_PATH | O_CLOEXEC);
	ASSERT_LE(0, F.opathfd);
	/* Never open: descriptors are allocated lowest first. */
	F.closedfd = 900;
	close(F.closedfd);
	F.hfd = -1;
	arena_init(&F.arg);
	arena_init(&F.arr);
}

TEST(fuzz)
{
	unsigned long i;
	char *leaks_before = NULL, *leaks_after;
	bool kmemleak;
	int e, n;

	setup(_metadata);
	kmemleak = !access(KMEMLEAK, F_OK);
	if (kmemleak) {
		kmemleak_scan();
		leaks_before = kmemleak_objects();
	}
	for (F.iter = 0; F.iter < F.iters && !F.bad; F.iter++)
		step();

	if (!F.bad) {
		F.iter = F.iters;
		verify_stamp(true);
	}

	/* Everything detached, the module unloads, nothing leaked. */
	if (F.hfd >= 0)
		close(F.hfd);
	for (i = 1; i < NCTL; i++)
		if (F.ctl[i] >= 0)
			close(F.ctl[i]);
	n = vs_detach_all(F.ctl[0]);
	EXPECT_EQ((int)F.nm, n) {
		for (i = 0; i < F.nm; i++)
			TH_LOG("the model has %u:%u attached", major(F.m[i].dev),
			       minor(F.m[i].dev));
		system("dmesg | grep -i 'volsnap' | tail -20");
	}
	vs_param_set("max_snapshots", F.old_max > 0 ? F.old_max : 64);
	vs_param_set("hold_limit_ms", F.old_hold > 0 ? F.old_hold : 10000);
	close(F.ctl[0]);
	for (i = 0; i < 4; i++)
		close(F.dfd[i]);
	EXPECT_EQ(0, system("rmmod volsnap")) {
		TH_LOG("the module does not unload after the fuzzer");
	}
	if (kmemleak) {
		kmemleak_scan();
		sleep(6);
		kmemleak_scan();
		leaks_after = kmemleak_objects();
		EXPECT_EQ(0, new_leaks(leaks_before, leaks_after));
		free(leaks_after);
		free(leaks_before);
	}

	printf("# fuzz: seed %u, %lu steps, %lu calls, %lu succeeded, %lu rejected:",
	       F.seed, F.iter, F.calls, F.ok, F.rejected);
	for (e = 1; e < 256; e++)
		if (F.errs[e])
			printf(" %s %lu", strerrorname_np(e) ?: "?", F.errs[e]);
	printf("\n");
	fflush(stdout);
	EXPECT_EQ(0, F.bad);
}

TEST_HARNESS_MAIN

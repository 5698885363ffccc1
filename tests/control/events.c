// SPDX-License-Identifier: GPL-2.0
/*
 * Events read from the control device (struct volsnap_event), and the
 * uevents that go with them, each caused for real:
 *
 * - invalid_store_full: a snapshot whose 4 MiB store fills up becomes
 *   invalid; the event names it, its image and -ENOSPC, and a uevent
 *   VOLSNAP_EVENT=invalid arrives on the origin device.
 * - threshold_once: with the threshold at 50%, no event while the store's
 *   use (as STATUS reports it) is below it, exactly one when it reaches
 *   it, none as it rises further; after the use fell below, the next rise
 *   sends it again. STATUS reports the threshold.
 * - hold_expired: a freeze held past hold_limit_ms sends HOLD_EXPIRED,
 *   with the limit, within a second of the limit; and its uevent.
 * - store_removed: the store disappears; before the origin is detached,
 *   its snapshot is reported invalid with -ENODEV, to udev as well.
 * - two_readers: two files get the same events; a file opened later gets
 *   only the events from then on.
 * - nonblock: an O_NONBLOCK read with nothing pending is EAGAIN, poll()
 *   does not report POLLIN, a buffer shorter than a record is EINVAL, a
 *   larger one gets whole records.
 * - overflow: a reader that falls more than VOLSNAP_EVENT_RING behind
 *   gets one LOST record with the count, then the oldest kept events.
 * - set_errors: VOLSNAP_IOC_ORIGIN_SET rejects bad flags, thresholds over 100
 *   and origins not attached.
 * - capability: reading needs a file opened with CAP_SYS_ADMIN, as the
 *   ioctls do; dropping it after the open does not matter.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "vsops.h"
#include "vstest.h"

#define CHUNK		65536
#define STORE_MIB	4
/* Data chunks of the store: the first chunk holds the header. */
#define STORE_CHUNKS	(STORE_MIB * 1024 * 1024 / CHUNK - 1)
#define HOLD_MS		500

static_assert(sizeof(struct volsnap_event) == 80, "struct volsnap_event");

FIXTURE(ev) {
	int ctl;		/* ioctls */
	int rd;			/* events, O_NONBLOCK */
	int uev;		/* NETLINK_KOBJECT_UEVENT */
	int ofd;		/* the origin, O_DIRECT */
	const char *origin;
	unsigned int major, minor;
	char store[32];
	void *buf;
};

static int uevent_socket(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,		/* the kernel's uevents */
	};
	int rcvbuf = 1 << 20;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_KOBJECT_UEVENT);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

FIXTURE_SETUP(ev)
{
	struct volsnap_origin_set set = { .flags = VOLSNAP_ORIGIN_SET_THRESHOLD };
	int ret;

	self->rd = -1;
	self->uev = -1;
	self->ofd = -1;
	self->buf = NULL;
	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	vs_detach_all(self->ctl);
	ret = vs_nullb_create("vs-ev", STORE_MIB, self->store, sizeof(self->store));
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	self->origin = vs_disk_origin();
	ASSERT_EQ(0, vs_devno(self->origin, &self->major, &self->minor));
	self->uev = uevent_socket();
	ASSERT_LE(0, self->uev);
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, self->store, CHUNK));
	/* Each test sets the threshold it needs; none by default here. */
	set.major = self->major;
	set.minor = self->minor;
	ASSERT_EQ(0, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	self->rd = open("/dev/" VOLSNAP_CTL_NAME, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->rd);
	self->ofd = open(self->origin, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->ofd);
	ASSERT_EQ(0, posix_memalign(&self->buf, 4096, CHUNK));
	memset(self->buf, 0xe7, CHUNK);
}

FIXTURE_TEARDOWN(ev)
{
	vs_param_set("hold_limit_ms", 10000);
	free(self->buf);
	if (self->ofd >= 0)
		close(self->ofd);
	if (self->rd >= 0)
		close(self->rd);
	if (self->uev >= 0)
		close(self->uev);
	if (self->ctl >= 0) {
		vs_detach_all(self->ctl);
		close(self->ctl);
	}
	vs_nullb_destroy("vs-ev");
}

typedef FIXTURE_DATA(ev) ev_t;

/*
 * The next event of @fd, waiting up to @ms: 1 with *@ev filled, 0 none
 * came, -errno.
 */
static int next_event(int fd, struct volsnap_event *ev, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, ms);
	if (ret <= 0)
		return ret < 0 ? -errno : 0;
	n = read(fd, ev, sizeof(*ev));
	if (n < 0)
		return -errno;
	return n == sizeof(*ev) ? 1 : -EIO;
}

/* Write origin chunk @chunk (direct: its copy is made by the time it returns). */
static int write_chunk(ev_t *self, unsigned int chunk)
{
	return pwrite(self->ofd, self->buf, CHUNK, (off_t)chunk * CHUNK) == CHUNK ?
	       0 : -errno;
}

static u64 store_used(ev_t *self)
{
	struct volsnap_origin_info info;
	unsigned int count = 0;

	if (vs_status(self->ctl, self->origin, &info, NULL, &count))
		return ~0ULL;
	return info.store_used;
}

static int set_threshold(ev_t *self, unsigned int pct)
{
	struct volsnap_origin_set set = {
		.flags = VOLSNAP_ORIGIN_SET_THRESHOLD,
		.major = self->major, .minor = self->minor,
		.threshold = pct,
	};

	return ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set) ? -errno : 0;
}

/*
 * Wait up to @ms for a uevent of the origin whose VOLSNAP_EVENT is @name;
 * copy its variables (NUL-separated) to @env. 1 found, 0 not.
 */
static int wait_uevent(ev_t *self, const char *name, char *env, size_t len,
		       int ms)
{
	char want[64], devname[64], msg[4096];
	const char *base = strrchr(self->origin, '/') + 1;
	struct pollfd pfd = { .fd = self->uev, .events = POLLIN };
	u64 end = vs_now_ns() + (u64)ms * 1000000;
	bool named, ours;
	ssize_t n, i;

	snprintf(want, sizeof(want), "VOLSNAP_EVENT=%s", name);
	snprintf(devname, sizeof(devname), "DEVNAME=%s", base);
	while (vs_now_ns() < end) {
		if (poll(&pfd, 1, (end - vs_now_ns()) / 1000000 + 1) <= 0)
			continue;
		n = recv(self->uev, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		named = false;
		ours = false;
		for (i = 0; i < n; i += strlen(msg + i) + 1) {
			if (!strcmp(msg + i, want))
				named = true;
			if (!strcmp(msg + i, devname))
				ours = true;
		}
		if (named && ours) {
			memcpy(env, msg, (size_t)n < len ? (size_t)n + 1 : len);
			env[len - 1] = '\0';
			return 1;
		}
	}
	return 0;
}

/* Does the NUL-separated @env of @len bytes hold the variable @var? */
static bool env_has(const char *env, size_t len, const char *var)
{
	size_t i;

	for (i = 0; i < len; i += strlen(env + i) + 1)
		if (!strcmp(env + i, var))
			return true;
	return false;
}

TEST_F_TIMEOUT(ev, invalid_store_full, 120)
{
	struct volsnap_snapshot_info si;
	struct volsnap_event ev;
	struct volsnap_create c;
	char env[4096] = "", var[64];
	unsigned int i;
	int got = 0, ret;

	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	/* Nothing yet: taking a snapshot is no event. */
	EXPECT_EQ(0, next_event(self->rd, &ev, 0));
	/* Twice the store's room in distinct chunks: it fills up. */
	for (i = 0; i < 2 * STORE_CHUNKS; i++)
		ASSERT_EQ(0, write_chunk(self, i));
	ASSERT_EQ(0, vs_snap_info(self->ctl, self->origin, c.id, &si));
	ASSERT_EQ(-ENOSPC, si.error);

	ret = next_event(self->rd, &ev, 2000);
	ASSERT_EQ(1, ret);
	EXPECT_EQ(VOLSNAP_EVENT_INVALID, ev.type);
	EXPECT_EQ(0, ev.flags);
	EXPECT_EQ(self->major, ev.major);
	EXPECT_EQ(self->minor, ev.minor);
	EXPECT_EQ(c.id, ev.snapshot_id);
	EXPECT_EQ(c.image_index, ev.image_index);
	EXPECT_EQ(-ENOSPC, ev.error);
	EXPECT_NE(0, ev.seq);
	EXPECT_EQ(0, ev.reserved[0] | ev.reserved[1]);
	/* Realtime, and recent. */
	EXPECT_LT(ev.time_ns, (u64)time(NULL) * 1000000000ULL + 2000000000ULL);
	EXPECT_GT(ev.time_ns, (u64)time(NULL) * 1000000000ULL - 60000000000ULL);
	/* Once per snapshot: the other writes that failed to copy add none. */
	while (next_event(self->rd, &ev, 200) == 1)
		got++;
	EXPECT_EQ(0, got);

	ASSERT_EQ(1, wait_uevent(self, "invalid", env, sizeof(env), 3000));
	snprintf(var, sizeof(var), "VOLSNAP_SNAPSHOT=%u", c.id);
	EXPECT_TRUE(env_has(env, sizeof(env), var));
	snprintf(var, sizeof(var), "VOLSNAP_IMAGE=volsnap%u", c.image_index);
	EXPECT_TRUE(env_has(env, sizeof(env), var));
	EXPECT_TRUE(env_has(env, sizeof(env), "VOLSNAP_ERROR=-28"));
	EXPECT_TRUE(env_has(env, sizeof(env), "ACTION=change"));
}

TEST_F_TIMEOUT(ev, threshold_once, 120)
{
	/* 50% of 63 chunks: the event comes when 32 are in use. */
	const u64 at = (STORE_CHUNKS * 50 + 99) / 100;
	struct volsnap_origin_info info;
	struct volsnap_event ev;
	struct volsnap_create c;
	char env[4096] = "";
	unsigned int i, count = 0, round;
	u64 used;

	ASSERT_EQ(0, set_threshold(self, 50));
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_EQ(50, info.threshold);

	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
		for (i = 0; i < at + 8; i++) {
			ASSERT_EQ(0, write_chunk(self, i));
			used = store_used(self);
			ASSERT_EQ(i + 1, used);
			if (used < at) {
				/* Not before the threshold. */
				ASSERT_EQ(0, next_event(self->rd, &ev, 0)) {
					TH_LOG("event type %u at %llu chunks",
					       ev.type, (unsigned long long)used);
				}
			} else if (used == at) {
				ASSERT_EQ(1, next_event(self->rd, &ev, 2000));
				EXPECT_EQ(VOLSNAP_EVENT_THRESHOLD, ev.type);
				EXPECT_EQ(self->major, ev.major);
				EXPECT_EQ(self->minor, ev.minor);
				EXPECT_EQ(at, ev.count);
				EXPECT_EQ(STORE_CHUNKS, ev.total);
				EXPECT_EQ(50, ev.threshold);
				EXPECT_EQ(0, ev.snapshot_id);
			} else {
				/* Once: not again while above it. */
				ASSERT_EQ(0, next_event(self->rd, &ev, 0));
			}
		}
		if (!round) {
			ASSERT_EQ(1, wait_uevent(self, "threshold", env,
						 sizeof(env), 3000));
			EXPECT_TRUE(env_has(env, sizeof(env), "VOLSNAP_THRESHOLD=50"));
		}
		/* Deleting frees the store: below again, re-armed. */
		ASSERT_EQ(0, vs_delete(self->ctl, self->origin, c.id, false));
		ASSERT_EQ(0, store_used(self));
		EXPECT_EQ(0, next_event(self->rd, &ev, 100));
	}

	/* A threshold set at or below the use is sent at once. */
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, write_chunk(self, i));
	ASSERT_EQ(0, next_event(self->rd, &ev, 0));
	ASSERT_EQ(0, set_threshold(self, 1));
	ASSERT_EQ(1, next_event(self->rd, &ev, 1000));
	EXPECT_EQ(VOLSNAP_EVENT_THRESHOLD, ev.type);
	EXPECT_EQ(4, ev.count);
	EXPECT_EQ(1, ev.threshold);
	/* 0: none, whatever the use. */
	ASSERT_EQ(0, set_threshold(self, 0));
	for (i = 4; i < STORE_CHUNKS; i++)
		ASSERT_EQ(0, write_chunk(self, i));
	EXPECT_EQ(0, next_event(self->rd, &ev, 100));
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_EQ(0, info.threshold);
}

TEST_F_TIMEOUT(ev, hold_expired, 60)
{
	struct volsnap_origin_cmd oc = {
		.major = self->major, .minor = self->minor,
	};
	struct volsnap_event ev;
	char env[4096] = "";
	u64 t0, ms;

	ASSERT_EQ(0, vs_param_set("hold_limit_ms", HOLD_MS));
	t0 = vs_now_ns();
	ASSERT_EQ(0, ioctl(self->ctl, VOLSNAP_IOC_FREEZE, &oc));
	ASSERT_EQ(1, next_event(self->rd, &ev, HOLD_MS + 5000));
	ms = (vs_now_ns() - t0) / 1000000;
	TH_LOG("hold-expired event after %llu ms (limit %d)",
	       (unsigned long long)ms, HOLD_MS);
	EXPECT_EQ(VOLSNAP_EVENT_HOLD_EXPIRED, ev.type);
	EXPECT_EQ(self->major, ev.major);
	EXPECT_EQ(self->minor, ev.minor);
	EXPECT_EQ(HOLD_MS, ev.count);
	EXPECT_GE(ms, HOLD_MS - 50);
	EXPECT_LE(ms, HOLD_MS + 1000);
	/* The freeze did end that way. */
	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_THAW, &oc));
	EXPECT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(1, wait_uevent(self, "hold-expired", env, sizeof(env), 3000));
	EXPECT_TRUE(env_has(env, sizeof(env), "VOLSNAP_HOLD_LIMIT_MS=500"));
}

TEST_F_TIMEOUT(ev, store_removed, 60)
{
	struct volsnap_event ev;
	char env[4096] = "";
	struct volsnap_create c;
	u64 t0;

	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	t0 = vs_now_ns();
	/* The store's disk goes away: the poll detaches within seconds. */
	vs_nullb_destroy("vs-ev");
	ASSERT_EQ(1, next_event(self->rd, &ev, 10000));
	TH_LOG("invalid event %llu ms after the store's removal",
	       (unsigned long long)((vs_now_ns() - t0) / 1000000));
	EXPECT_EQ(VOLSNAP_EVENT_INVALID, ev.type);
	EXPECT_EQ(self->major, ev.major);
	EXPECT_EQ(self->minor, ev.minor);
	EXPECT_EQ(c.id, ev.snapshot_id);
	EXPECT_EQ(c.image_index, ev.image_index);
	EXPECT_EQ(-ENODEV, ev.error);
	/* Sent before the detach, while the origin is still attached. */
	ASSERT_EQ(1, wait_uevent(self, "invalid", env, sizeof(env), 3000));
	EXPECT_TRUE(env_has(env, sizeof(env), "VOLSNAP_ERROR=-19"));
}

TEST_F(ev, two_readers)
{
	struct volsnap_event a, b, c;
	struct volsnap_create snap;
	int rd2, late;

	rd2 = open("/dev/" VOLSNAP_CTL_NAME, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rd2);
	/* One chunk in use: a threshold of 1% sends its event at once. */
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &snap));
	ASSERT_EQ(0, write_chunk(self, 0));
	ASSERT_EQ(0, set_threshold(self, 1));
	ASSERT_EQ(1, next_event(self->rd, &a, 1000));
	ASSERT_EQ(1, next_event(rd2, &b, 1000));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	EXPECT_EQ(VOLSNAP_EVENT_THRESHOLD, a.type);

	/* Opened now: gets the next event, not the one before. */
	late = open("/dev/" VOLSNAP_CTL_NAME, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, late);
	EXPECT_EQ(0, next_event(late, &c, 0));
	ASSERT_EQ(0, set_threshold(self, 1));
	ASSERT_EQ(1, next_event(late, &c, 1000));
	EXPECT_EQ(a.seq + 1, c.seq);
	ASSERT_EQ(1, next_event(self->rd, &a, 1000));
	ASSERT_EQ(1, next_event(rd2, &b, 1000));
	EXPECT_EQ(c.seq, a.seq);
	EXPECT_EQ(c.seq, b.seq);
	close(late);
	close(rd2);
}

TEST_F(ev, nonblock)
{
	struct pollfd pfd = { .fd = self->rd, .events = POLLIN };
	struct volsnap_event evs[4];
	struct volsnap_create c;
	char small[sizeof(evs[0]) - 1];
	ssize_t n;

	EXPECT_EQ(-1, read(self->rd, evs, sizeof(evs)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-1, read(self->rd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	ASSERT_EQ(0, write_chunk(self, 0));
	ASSERT_EQ(0, set_threshold(self, 1));
	ASSERT_EQ(0, set_threshold(self, 1));
	ASSERT_EQ(0, set_threshold(self, 1));
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* Three pending, room for four: whole records, three. */
	n = read(self->rd, evs, sizeof(evs) - 1);
	EXPECT_EQ((ssize_t)(3 * sizeof(evs[0])), n);
	EXPECT_EQ(evs[0].seq + 1, evs[1].seq);
	EXPECT_EQ(evs[1].seq + 1, evs[2].seq);
	EXPECT_EQ(-1, read(self->rd, evs, sizeof(evs)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(ev, overflow)
{
	const unsigned int extra = 44, total = VOLSNAP_EVENT_RING + extra;
	struct volsnap_event ev, first;
	struct volsnap_create c;
	unsigned int i, n = 0;
	u64 seq;

	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	ASSERT_EQ(0, write_chunk(self, 0));
	/* Each sends one event: the use is above it. */
	for (i = 0; i < total; i++)
		ASSERT_EQ(0, set_threshold(self, 1));
	/* The reader missed the first @extra. */
	ASSERT_EQ(1, next_event(self->rd, &first, 1000));
	EXPECT_EQ(VOLSNAP_EVENT_LOST, first.type);
	EXPECT_EQ(extra, first.count);
	seq = first.seq + extra;
	while (next_event(self->rd, &ev, 0) == 1) {
		EXPECT_EQ(VOLSNAP_EVENT_THRESHOLD, ev.type);
		EXPECT_EQ(seq, ev.seq);
		seq = ev.seq + 1;
		n++;
	}
	EXPECT_EQ(VOLSNAP_EVENT_RING, n);
}

TEST_F(ev, set_errors)
{
	struct volsnap_origin_set set = {
		.flags = VOLSNAP_ORIGIN_SET_THRESHOLD,
		.major = self->major, .minor = self->minor,
		.threshold = 101,
	};

	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	EXPECT_EQ(EINVAL, errno);
	set.threshold = 100;
	EXPECT_EQ(0, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	set.flags = 0;
	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	EXPECT_EQ(EINVAL, errno);
	set.flags = VOLSNAP_ORIGIN_SET_THRESHOLD | (1U << 1);
	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	EXPECT_EQ(EINVAL, errno);
	set.flags = VOLSNAP_ORIGIN_SET_THRESHOLD;
	set.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	EXPECT_EQ(EINVAL, errno);
	set.reserved[1] = 0;
	set.minor = self->minor + 77;
	EXPECT_EQ(-1, ioctl(self->ctl, VOLSNAP_IOC_ORIGIN_SET, &set));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(ev, capability)
{
	struct volsnap_event ev;
	struct volsnap_create c;
	pid_t pid;
	int status, kept;

	kept = open("/dev/" VOLSNAP_CTL_NAME, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kept);
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	ASSERT_EQ(0, write_chunk(self, 0));
	ASSERT_EQ(0, set_threshold(self, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (vs_drop_sys_admin())
			_exit(10);
		/* Opened with the capability: reads. */
		if (next_event(kept, &ev, 1000) != 1 ||
		    ev.type != VOLSNAP_EVENT_THRESHOLD)
			_exit(11);
		/* Opened without it: refused, as the ioctls are. */
		fd = open("/dev/" VOLSNAP_CTL_NAME, O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			_exit(12);
		if (read(fd, &ev, sizeof(ev)) != -1 || errno != EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(kept);
}

TEST_HARNESS_MAIN

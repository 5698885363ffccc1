// SPDX-License-Identifier: GPL-2.0
/*
 * The hold limit holds whatever else the control device is doing
 * (design.md, section 10: nothing on a path the watchdog or the fd-close
 * thaw needs may wait for user memory, a filesystem sync or a long walk).
 *
 * - faulting_status: a STATUS whose output buffer is a shared mapping of a
 *   file on the frozen filesystem faults in the copy to user space until
 *   the filesystem thaws. The watchdog must still thaw at the hold limit,
 *   and the STATUS then completes.
 * - busy_control: while other processes run STATUS, LIST, CREATE and
 *   DELETE on the control device in a loop, a freeze is still thawed by
 *   the watchdog at the hold limit.
 * - close_thaws_while_busy: closing the control file that froze the
 *   origin thaws it at once, even with a STATUS blocked in a fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vsops.h"
#include "vstest.h"

#define MNT		"/mnt/vs-hold"
#define BUF_FILE	MNT "/buf"
#define BUF_LEN		65536
#define HOLD_MS		2000

FIXTURE(hold) {
	int ctl;
	const char *origin;
	unsigned int major, minor;
	int buf_fd;
	char *buf;
};

FIXTURE_SETUP(hold)
{
	char cmd[256];
	char data[BUF_LEN];
	int fd;

	self->buf_fd = -1;
	self->buf = MAP_FAILED;
	ASSERT_EQ(0, vs_module_load());
	self->ctl = vs_ctl_open();
	ASSERT_LE(0, self->ctl);
	vs_detach_all(self->ctl);
	self->origin = vs_disk_origin();
	ASSERT_EQ(0, vs_devno(self->origin, &self->major, &self->minor));
	ASSERT_EQ(0, vs_wipe_store(vs_disk_store()));
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s > /dev/null 2>&1", self->origin);
	ASSERT_EQ(0, system(cmd));
	mkdir(MNT, 0755);
	ASSERT_EQ(0, mount(self->origin, MNT, "ext4", 0, NULL));
	fd = open(BUF_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	memset(data, 0x5a, sizeof(data));
	ASSERT_EQ(BUF_LEN, write(fd, data, sizeof(data)));
	ASSERT_EQ(0, fsync(fd));
	self->buf_fd = fd;
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, vs_attach(self->ctl, self->origin, vs_disk_store(), 0));
	ASSERT_EQ(0, vs_param_set("hold_limit_ms", HOLD_MS));
}

FIXTURE_TEARDOWN(hold)
{
	vs_param_set("hold_limit_ms", 10000);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, BUF_LEN);
	if (self->buf_fd >= 0)
		close(self->buf_fd);
	if (self->ctl >= 0) {
		vs_detach_all(self->ctl);
		close(self->ctl);
	}
	umount(MNT);
}

static int origin_cmd(int ctl, unsigned long cmd, unsigned int major,
		      unsigned int minor)
{
	struct volsnap_origin_cmd c = { .major = major, .minor = minor };

	return ioctl(ctl, cmd, &c) ? -errno : 0;
}

typedef FIXTURE_DATA(hold) hold_t;

/*
 * Read every page of the mapping, so it is mapped read-only: a copy to
 * user space then takes a write fault, which waits for the thaw.
 */
static void touch_pages(const char *buf)
{
	unsigned int i, sum = 0;

	for (i = 0; i < BUF_LEN; i += 4096)
		sum += *(const unsigned char *)(buf + i);
	__asm__ __volatile__("" : : "r"(sum) : "memory");
}

/* Freeze, and take a snapshot inside it so STATUS has one to copy out. */
static int freeze_with_snapshot(hold_t *self)
{
	struct volsnap_create c = {
		.flags = VOLSNAP_CREATE_FROZEN,
		.major = self->major, .minor = self->minor,
	};
	int ret;

	touch_pages(self->buf);
	ret = origin_cmd(self->ctl, VOLSNAP_IOC_FREEZE, self->major, self->minor);
	if (ret)
		return ret;
	return ioctl(self->ctl, VOLSNAP_IOC_CREATE, &c) ? -errno : 0;
}

/* STATUS into the mapped file; returns its result, -errno or 0. */
static int status_into_mapping(int ctl, unsigned int major, unsigned int minor,
			       char *buf)
{
	struct volsnap_status st = {
		.major = major, .minor = minor, .count = 1,
		.snapshots = (unsigned long)(buf + 4096),
	};

	return ioctl(ctl, VOLSNAP_IOC_STATUS, &st) ? -errno : 0;
}

TEST_F_TIMEOUT(hold, faulting_status, 120)
{
	u64 t0, ms;
	int ret;

	ASSERT_EQ(0, freeze_with_snapshot(self));
	t0 = vs_now_ns();
	ret = status_into_mapping(self->ctl, self->major, self->minor, self->buf);
	ms = (vs_now_ns() - t0) / 1000000;
	TH_LOG("STATUS into a frozen file's mapping returned %d after %llu ms",
	       ret, (unsigned long long)ms);
	EXPECT_EQ(0, ret);
	/* Thawed by the watchdog at the limit, not before; generous slack. */
	EXPECT_GE(ms, HOLD_MS / 2);
	EXPECT_LE(ms, HOLD_MS + 8000);
	/* The watchdog thawed and failed the freeze. */
	EXPECT_EQ(-ETIMEDOUT, origin_cmd(self->ctl, VOLSNAP_IOC_THAW,
					 self->major, self->minor));
	/* The origin's filesystem takes writes again. */
	self->buf[0] = 1;
	EXPECT_EQ(0, msync(self->buf, 4096, MS_SYNC));
}

/* Hammer the control device until killed. */
static void busy_loop(const char *origin)
{
	struct volsnap_origin_info infos[4], info;
	struct volsnap_snapshot_info snaps[8];
	struct volsnap_create c;
	struct volsnap_list l;
	int ctl = vs_ctl_open();
	unsigned int count;

	for (;;) {
		count = 8;
		vs_status(ctl, origin, &info, snaps, &count);
		memset(&l, 0, sizeof(l));
		l.count = 4;
		l.origins = (unsigned long)infos;
		ioctl(ctl, VOLSNAP_IOC_LIST, &l);
		/* Refused while frozen (EBUSY); the call still runs. */
		if (!vs_create(ctl, origin, 0, &c))
			vs_delete(ctl, origin, c.id, true);
	}
}

TEST_F_TIMEOUT(hold, busy_control, 120)
{
	struct volsnap_origin_info info;
	pid_t pids[2];
	unsigned int count = 0;
	u64 t0, ms = 0;
	int i;

	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			busy_loop(self->origin);
			_exit(0);
		}
	}
	ASSERT_EQ(0, origin_cmd(self->ctl, VOLSNAP_IOC_FREEZE, self->major,
				self->minor));
	t0 = vs_now_ns();
	for (;;) {
		ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
		ms = (vs_now_ns() - t0) / 1000000;
		if (info.state & VOLSNAP_ORIGIN_TIMED_OUT || ms > HOLD_MS + 20000)
			break;
		usleep(50000);
	}
	for (i = 0; i < 2; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	TH_LOG("thawed by the watchdog after %llu ms (limit %d ms)",
	       (unsigned long long)ms, HOLD_MS);
	EXPECT_TRUE(info.state & VOLSNAP_ORIGIN_TIMED_OUT);
	EXPECT_LE(ms, HOLD_MS + 3000);
	EXPECT_EQ(-ETIMEDOUT, origin_cmd(self->ctl, VOLSNAP_IOC_THAW,
					 self->major, self->minor));
}

TEST_F_TIMEOUT(hold, close_thaws_while_busy, 120)
{
	struct volsnap_origin_info info;
	struct volsnap_create c;
	unsigned int count = 0;
	int status, ret, fctl;
	pid_t pid;
	u64 t0, ms;

	/* A second control file freezes; the first one faults in STATUS. */
	ASSERT_EQ(0, vs_create(self->ctl, self->origin, 0, &c));
	fctl = vs_ctl_open();
	ASSERT_LE(0, fctl);
	ASSERT_EQ(0, vs_param_set("hold_limit_ms", 60000));
	ASSERT_EQ(0, origin_cmd(fctl, VOLSNAP_IOC_FREEZE, self->major, self->minor));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fctl);	/* the parent's close must release it */
		touch_pages(self->buf);
		ret = status_into_mapping(self->ctl, self->major, self->minor,
					  self->buf);
		_exit(ret ? 1 : 0);
	}
	usleep(500000);
	t0 = vs_now_ns();
	close(fctl);
	ms = (vs_now_ns() - t0) / 1000000;
	TH_LOG("closing the freezing control file took %llu ms",
	       (unsigned long long)ms);
	EXPECT_LE(ms, 3000);
	ASSERT_EQ(0, vs_status(self->ctl, self->origin, &info, NULL, &count));
	EXPECT_FALSE(info.state & VOLSNAP_ORIGIN_FROZEN);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The control device's ABI contract: VOLSNAP_IOC_FEATURES answers, rejects
 * unknown flags and non-zero reserved fields with EINVAL, unknown commands
 * get ENOTTY, bad pointers EFAULT, callers without CAP_SYS_ADMIN EPERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vstest.h"

FIXTURE(ctl) {
	int fd;
};

FIXTURE_SETUP(ctl)
{
	ASSERT_EQ(0, vs_module_load());
	self->fd = vs_ctl_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctl)
{
	close(self->fd);
}

TEST_F(ctl, features_answers)
{
	struct volsnap_features f;
	char sysver[64] = "";
	FILE *fp;

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(0, ioctl(self->fd, VOLSNAP_IOC_FEATURES, &f));
	ASSERT_NE(NULL, memchr(f.version, 0, sizeof(f.version)));
	fp = fopen("/sys/module/volsnap/version", "r");
	ASSERT_NE(NULL, fp);
	ASSERT_NE(NULL, fgets(sysver, sizeof(sysver), fp));
	fclose(fp);
	sysver[strcspn(sysver, "\n")] = 0;
	EXPECT_STREQ(sysver, f.version);
}

TEST_F(ctl, unknown_flags_einval)
{
	struct volsnap_features f;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&f, 0, sizeof(f));
		f.flags = 1U << bit;
		EXPECT_EQ(-1, ioctl(self->fd, VOLSNAP_IOC_FEATURES, &f));
		EXPECT_EQ(EINVAL, errno);
	}
}

TEST_F(ctl, nonzero_pad_einval)
{
	struct volsnap_features f;

	memset(&f, 0, sizeof(f));
	f.pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VOLSNAP_IOC_FEATURES, &f));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ctl, nonzero_reserved_einval)
{
	struct volsnap_features f;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f.reserved); i++) {
		memset(&f, 0, sizeof(f));
		f.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-1, ioctl(self->fd, VOLSNAP_IOC_FEATURES, &f));
		EXPECT_EQ(EINVAL, errno);
	}
}

TEST_F(ctl, unknown_command_enotty)
{
	char buf[64] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(VOLSNAP_IOC_MAGIC, 0x7f, buf), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 1)));
	EXPECT_EQ(ENOTTY, errno);
	/* Same number, wrong size: a different command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(VOLSNAP_IOC_MAGIC, 0x00, buf), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(ctl, bad_pointer_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, VOLSNAP_IOC_FEATURES, (void *)16));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctl, no_cap_sys_admin_eperm)
{
	struct volsnap_features f;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(&f, 0, sizeof(f));
		if (vs_drop_sys_admin())
			_exit(2);
		if (ioctl(self->fd, VOLSNAP_IOC_FEATURES, &f) != -1)
			_exit(3);
		_exit(errno == EPERM ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(unprivileged_open_eacces)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, vs_module_load());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (open(VS_CTL_PATH, O_RDWR) != -1)
			_exit(3);
		_exit(errno == EACCES ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "vstest.h"

int vs_module_load(void)
{
	if (access("/sys/module/volsnap", F_OK) == 0)
		return 0;
	if (system("insmod " VS_KO_PATH) != 0)
		return -EIO;
	return access(VS_CTL_PATH, F_OK) ? -errno : 0;
}

int vs_ctl_open(void)
{
	int fd = open(VS_CTL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vs_drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

bool vs_debug_profile(void)
{
	const char *p = getenv("VS_PROFILE");

	return p && !strcmp(p, "debug");
}

unsigned long vs_scaled(unsigned long full, unsigned long debug)
{
	return vs_debug_profile() ? debug : full;
}

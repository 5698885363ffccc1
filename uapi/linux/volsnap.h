/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * volsnap - copy-on-write snapshots of live block devices
 *
 * The ioctl ABI of the control device, shared by the kernel module and the
 * tools. Rules (Documentation/process/botching-up-ioctls.rst): only fixed
 * size types, naturally aligned, explicit padding, every struct a multiple
 * of 8 bytes with a flags word and reserved space. The kernel rejects
 * unknown flags and non-zero reserved fields with -EINVAL, so both can be
 * given a meaning later without breaking old binaries. Capabilities are
 * discovered with VOLSNAP_IOC_FEATURES, not inferred from version numbers.
 */
#ifndef _UAPI_LINUX_VOLSNAP_H
#define _UAPI_LINUX_VOLSNAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/** VOLSNAP_CTL_NAME - name of the control misc device under /dev */
#define VOLSNAP_CTL_NAME	"volsnap-ctl"

/** VOLSNAP_VERSION_LEN - size of the version string buffer, with its NUL */
#define VOLSNAP_VERSION_LEN	32

/**
 * struct volsnap_features - what the loaded module can do
 * @flags: in: must be zero.
 * @pad: in: must be zero.
 * @features: out: mask of VOLSNAP_FEAT_* bits this module implements.
 * @version: out: the module's version string, NUL-terminated.
 * @reserved: in: must be zero.
 */
struct volsnap_features {
	__u32 flags;
	__u32 pad;
	__u64 features;
	char version[VOLSNAP_VERSION_LEN];
	__u64 reserved[4];
};

/* The ioctl magic; see Documentation/userspace-api/ioctl/ioctl-number.rst */
#define VOLSNAP_IOC_MAGIC	0xB7

/**
 * define VOLSNAP_IOC_FEATURES - report version and features
 *
 * Takes a &struct volsnap_features. Needs CAP_SYS_ADMIN, like every
 * command on the control device.
 */
#define VOLSNAP_IOC_FEATURES	_IOWR(VOLSNAP_IOC_MAGIC, 0x00, struct volsnap_features)

#endif /* _UAPI_LINUX_VOLSNAP_H */

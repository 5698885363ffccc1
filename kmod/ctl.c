// SPDX-License-Identifier: GPL-2.0
/*
 * The control device.
 *
 * Every command is an ioctl on /dev/volsnap-ctl and needs CAP_SYS_ADMIN.
 * Arguments are copied in whole, their flags and reserved fields checked
 * before anything is looked up, so a rejected call changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/volsnap.h>

#include "ctl.h"

/* Features this build implements; a bit appears with its code. */
#define VOLSNAP_FEATURES	0ULL

static bool all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static long ctl_features(struct volsnap_features __user *uarg)
{
	struct volsnap_features f;

	if (copy_from_user(&f, uarg, sizeof(f)))
		return -EFAULT;
	if (f.flags || f.pad || !all_zero(f.reserved, sizeof(f.reserved)))
		return -EINVAL;

	f.features = VOLSNAP_FEATURES;
	strscpy(f.version, VOLSNAP_VERSION, sizeof(f.version));

	if (copy_to_user(uarg, &f, sizeof(f)))
		return -EFAULT;
	return 0;
}

static long ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case VOLSNAP_IOC_FEATURES:
		return ctl_features(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ctl_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= VOLSNAP_CTL_NAME,
	.fops		= &ctl_fops,
	.mode		= 0600,
};

/**
 * volsnap_ctl_init() - register the control device
 *
 * Return: 0 or a negative errno from misc_register().
 */
int volsnap_ctl_init(void)
{
	return misc_register(&ctl_misc);
}

/**
 * volsnap_ctl_exit() - unregister the control device
 */
void volsnap_ctl_exit(void)
{
	misc_deregister(&ctl_misc);
}

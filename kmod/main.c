// SPDX-License-Identifier: GPL-2.0
/*
 * volsnap - copy-on-write snapshots of live block devices
 *
 * Module parameters, init and exit. Everything else lives in the file
 * named after the object it implements.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "ctl.h"

static int __init volsnap_init(void)
{
	int ret;

	ret = volsnap_ctl_init();
	if (ret) {
		pr_err("cannot register the control device: %d\n", ret);
		return ret;
	}
	pr_info("version " VOLSNAP_VERSION " loaded\n");
	return 0;
}

static void __exit volsnap_exit(void)
{
	volsnap_ctl_exit();
	pr_info("unloaded\n");
}

module_init(volsnap_init);
module_exit(volsnap_exit);

MODULE_DESCRIPTION("Copy-on-write snapshots of live block devices");
MODULE_AUTHOR("The volsnap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VOLSNAP_VERSION);

// SPDX-License-Identifier: GPL-2.0
/*
 * volsnap - copy-on-write snapshots of live block devices
 *
 * Module parameters, init and exit. Everything else lives in the file
 * named after the object it implements:
 *
 *   hook.c      how bios reach the module (ftrace on submit_bio_noacct)
 *   origin.c    attached devices: the gate, freeze, the snapshot instant
 *   cow.c       copy-on-write of chunks before origin writes
 *   chunkmap.c  which epoch each chunk is preserved for, and where
 *   store.c     the shadow store and its on-disk header
 *   snapshot.c  snapshots and their read-only image devices
 *   ctl.c       the control device and its ioctls
 *   event.c     events read from the control device, and uevents
 *   stack.c     which devices write to which (stores fed back refused)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include <linux/volsnap.h>

#include "ctl.h"
#include "event.h"
#include "hook.h"
#include "origin.h"
#include "snapshot.h"

unsigned int volsnap_hold_limit_ms = 10000;
unsigned int volsnap_max_snapshots = 64;
unsigned int volsnap_max_copies = 16;
unsigned int volsnap_max_queued_mib = 64;

/* Fault points for the tests, all off (0) by default. */
unsigned int volsnap_debug_copy_delay_ms;
unsigned int volsnap_debug_drain_delay_ms;
unsigned int volsnap_debug_queue_delay_ms;
unsigned int volsnap_debug_read_delay_ms;
unsigned int volsnap_debug_miss_delay_ms;
unsigned int volsnap_debug_hook_delay_ms;
unsigned int volsnap_debug_fail_alloc;
atomic_t volsnap_debug_alloc_failures = ATOMIC_INIT(0);

static int set_bounded(const char *val, const struct kernel_param *kp,
		       unsigned int min, unsigned int max)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < min || n > max)
		return -EINVAL;
	*(unsigned int *)kp->arg = n;
	return 0;
}

static int set_hold_limit(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 100, 600000);
}

static int set_max_snapshots(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 1, 1024);
}

static int set_max_copies(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 1, 256);
}

static int set_debug_delay(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 0, 10000);
}

static int set_debug_fail_alloc(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 0, 1000000);
}

/* A counter: read-only, at load time too (parse_one() calls .set). */
static int set_read_only(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int get_alloc_failures(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n",
			  (unsigned int)atomic_read(&volsnap_debug_alloc_failures));
}

static const struct kernel_param_ops debug_fail_alloc_ops = {
	.set = set_debug_fail_alloc,
	.get = param_get_uint,
};

static const struct kernel_param_ops alloc_failures_ops = {
	.set = set_read_only,
	.get = get_alloc_failures,
};

static const struct kernel_param_ops debug_delay_ops = {
	.set = set_debug_delay,
	.get = param_get_uint,
};

static const struct kernel_param_ops hold_limit_ops = {
	.set = set_hold_limit,
	.get = param_get_uint,
};

static const struct kernel_param_ops max_snapshots_ops = {
	.set = set_max_snapshots,
	.get = param_get_uint,
};

static int set_max_queued(const char *val, const struct kernel_param *kp)
{
	return set_bounded(val, kp, 1, 4096);
}

static const struct kernel_param_ops max_queued_ops = {
	.set = set_max_queued,
	.get = param_get_uint,
};

static const struct kernel_param_ops max_copies_ops = {
	.set = set_max_copies,
	.get = param_get_uint,
};

module_param_cb(hold_limit_ms, &hold_limit_ops, &volsnap_hold_limit_ms, 0644);
MODULE_PARM_DESC(hold_limit_ms,
		 "Longest time writes are held by a freeze before the kernel thaws and fails the snapshot, in ms (100-600000, default 10000)");
module_param_cb(max_snapshots, &max_snapshots_ops, &volsnap_max_snapshots, 0644);
MODULE_PARM_DESC(max_snapshots,
		 "Most live snapshots per origin (1-1024, default 64)");
module_param_cb(max_copies, &max_copies_ops, &volsnap_max_copies, 0444);
MODULE_PARM_DESC(max_copies,
		 "Most copies in flight per origin; each holds a chunk-sized buffer reserved at attach (1-256, default 16; set at load)");

module_param_cb(max_queued_mib, &max_queued_ops, &volsnap_max_queued_mib, 0644);
MODULE_PARM_DESC(max_queued_mib,
		 "Most data of copies queued per origin, in MiB; more first writes wait (1-4096, default 64; read at attach)");

/* Fault points: each makes one race window wide enough for a test to hit. */
module_param_cb(debug_copy_delay_ms, &debug_delay_ops,
		&volsnap_debug_copy_delay_ms, 0644);
MODULE_PARM_DESC(debug_copy_delay_ms,
		 "Test only: each copy waits this long before reading the origin (0-10000 ms, default 0)");
module_param_cb(debug_drain_delay_ms, &debug_delay_ops,
		&volsnap_debug_drain_delay_ms, 0644);
MODULE_PARM_DESC(debug_drain_delay_ms,
		 "Test only: a snapshot instant waits this long inside its check for writes in flight (0-10000 ms, default 0)");
module_param_cb(debug_queue_delay_ms, &debug_delay_ops,
		&volsnap_debug_queue_delay_ms, 0644);
MODULE_PARM_DESC(debug_queue_delay_ms,
		 "Test only: a write waits this long between making a copy and queueing it (0-10000 ms, default 0)");
module_param_cb(debug_read_delay_ms, &debug_delay_ops,
		&volsnap_debug_read_delay_ms, 0644);
MODULE_PARM_DESC(debug_read_delay_ms,
		 "Test only: image reads of the origin wait this long before they are sent and between their two checks for overtaking writes (0-10000 ms, default 0)");

module_param_cb(debug_miss_delay_ms, &debug_delay_ops,
		&volsnap_debug_miss_delay_ms, 0644);
MODULE_PARM_DESC(debug_miss_delay_ms,
		 "Test only: writes to devices that are not attached wait this long in the hook before they are submitted (0-10000 ms, default 0)");

module_param_cb(debug_hook_delay_ms, &debug_delay_ops,
		&volsnap_debug_hook_delay_ms, 0644);
MODULE_PARM_DESC(debug_hook_delay_ms,
		 "Test only: each hooked bio sleeps this long before submission and stays in the module up to 1 s after it (0-10000 ms, default 0)");

module_param_cb(debug_fail_alloc, &debug_fail_alloc_ops,
		&volsnap_debug_fail_alloc, 0644);
MODULE_PARM_DESC(debug_fail_alloc,
		 "Test only: each of the copy path's allocations that have a fallback fails with a chance of one in this many (0-1000000, default 0: none; for kernels without failslab)");
module_param_cb(debug_alloc_failures, &alloc_failures_ops, NULL, 0444);
MODULE_PARM_DESC(debug_alloc_failures,
		 "Test only: allocations failed by debug_fail_alloc since load");

static int __init volsnap_init(void)
{
	int ret;

	ret = volsnap_snapshot_init();
	if (ret) {
		pr_err("cannot register the image block major: %d\n", ret);
		return ret;
	}
	ret = volsnap_origin_init();
	if (ret)
		goto snapshot_exit;
	ret = volsnap_hook_init();
	if (ret)
		goto origin_exit;
	ret = volsnap_ctl_init();
	if (ret) {
		pr_err("cannot register the control device: %d\n", ret);
		goto hook_exit;
	}
	pr_info("version " VOLSNAP_VERSION " loaded\n");
	return 0;

hook_exit:
	volsnap_hook_exit();
origin_exit:
	volsnap_origin_exit();
snapshot_exit:
	volsnap_snapshot_exit();
	return ret;
}

static void __exit volsnap_exit(void)
{
	volsnap_ctl_exit();
	volsnap_hook_exit();
	volsnap_origin_exit();
	/* After the size poll, the last thing that could raise one. */
	volsnap_event_exit();
	volsnap_snapshot_exit();
	pr_info("unloaded\n");
}

module_init(volsnap_init);
module_exit(volsnap_exit);

MODULE_DESCRIPTION("Copy-on-write snapshots of live block devices");
MODULE_AUTHOR("The volsnap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VOLSNAP_VERSION);
/* Opening /dev/volsnap-ctl loads the module (see volsnap_ctl_init()). */
MODULE_ALIAS_MISCDEV(VOLSNAP_CTL_MINOR);
MODULE_ALIAS("devname:" VOLSNAP_CTL_NAME);

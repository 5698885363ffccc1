// SPDX-License-Identifier: GPL-2.0
/*
 * The bio hook.
 *
 * Mainline Linux has no block-filter interface, so volsnap redirects the
 * exported submit_bio_noacct() with an IP-modifying ftrace hook: every bio
 * submitted in the system enters hook_submit_bio_noacct() instead, which
 * offers it to volsnap_origin_filter() and, unless the filter took it,
 * calls the real submit_bio_noacct().
 *
 * Recursion: calls made from this module (the call-through, and every bio
 * the module submits itself, through volsnap_hook_submit()) are recognised
 * by their return address and not redirected. For that, no call to
 * submit_bio_noacct() in this module may be compiled as a tail call, which
 * the barrier() after each one prevents. Bios that drivers stacked on an
 * origin submit from inside their ->submit_bio() (current->bio_list set:
 * dm and md clones) are redirected like any other: the filter must see
 * them, or such a driver would write the origin behind the snapshot's
 * back. The filter may sleep there (see volsnap_origin_filter()).
 *
 * Lifetime: a task redirected into this module stays in it until the real
 * submit_bio_noacct() returns. hook_srcu covers that whole span, and the
 * ftrace trampoline is covered by RCU-tasks, so after volsnap_hook_exit()
 * no task runs module code on behalf of the hook.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/srcu.h>

#include "compat.h"
#include "hook.h"

DEFINE_STATIC_SRCU(hook_srcu);

/**
 * volsnap_hook_submit() - submit a bio below the filter
 * @bio: the bio; the filter never sees it.
 */
void volsnap_hook_submit(struct bio *bio)
{
	submit_bio_noacct(bio);
	barrier();	/* no tail call: the return address must be ours */
}

static void notrace hook_submit_bio_noacct(struct bio *bio)
{
	int idx = srcu_read_lock(&hook_srcu);

	if (!volsnap_origin_filter(bio))
		submit_bio_noacct(bio);
	srcu_read_unlock(&hook_srcu, idx);
}

static void notrace hook_handler(unsigned long ip, unsigned long parent_ip,
				 struct ftrace_ops *ops,
				 struct ftrace_regs *fregs)
{
	if (within_module(parent_ip, THIS_MODULE))
		return;
	volsnap_ftrace_set_ip(fregs, (unsigned long)hook_submit_bio_noacct);
}

static struct ftrace_ops hook_ops = {
	.func	= hook_handler,
	/* PERMANENT: sysctl kernel.ftrace_enabled=0 must not unhook us. */
	.flags	= FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT,
};

/**
 * volsnap_hook_sync() - wait until no task is inside the filter
 *
 * After an origin is unpublished, this guarantees no filter call still
 * uses it.
 */
void volsnap_hook_sync(void)
{
	synchronize_srcu(&hook_srcu);
}

/**
 * volsnap_hook_init() - redirect submit_bio_noacct() to the filter
 *
 * Return: 0 or a negative errno (-EBUSY: another module already owns an
 * IP-modifying hook on submit_bio_noacct()).
 */
int volsnap_hook_init(void)
{
	int ret;

	ret = ftrace_set_filter_ip(&hook_ops, (unsigned long)submit_bio_noacct,
				   0, 0);
	if (ret) {
		pr_err("cannot trace submit_bio_noacct: %d\n", ret);
		return ret;
	}
	ret = register_ftrace_function(&hook_ops);
	if (ret) {
		pr_err("cannot hook submit_bio_noacct: %d\n", ret);
		ftrace_set_filter_ip(&hook_ops, (unsigned long)submit_bio_noacct,
				     1, 0);
	}
	return ret;
}

/**
 * volsnap_hook_exit() - remove the hook and wait for every task in it
 */
void volsnap_hook_exit(void)
{
	unregister_ftrace_function(&hook_ops);
	ftrace_set_filter_ip(&hook_ops, (unsigned long)submit_bio_noacct, 1, 0);
	/* A task may sit between the trampoline and our srcu_read_lock(). */
	synchronize_rcu_tasks();
	synchronize_srcu(&hook_srcu);
}

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
 * Lifetime: a task redirected into this module runs module text from
 * hook_handler() (called by the ftrace trampoline) to the return of
 * hook_submit_bio_noacct(). Only the middle of that span, between
 * srcu_read_lock() and srcu_read_unlock(), may sleep voluntarily (in the
 * real submit_bio_noacct(), waiting for a tag or a throttle, or in the
 * filter). RCU-tasks waits for every task that is running or preempted,
 * but counts a voluntary sleep as quiescent; SRCU waits only for the
 * readers. So volsnap_hook_exit() waits in three steps, in this order:
 *
 *   1. after unregister_ftrace_function() no new task enters; RCU-tasks
 *      (and its "rude" flavour, for irqs taken by idle tasks) then waits
 *      out every task in the trampoline, hook_handler() or before
 *      srcu_read_lock(): none of them can sleep voluntarily there;
 *   2. synchronize_srcu() waits out every task that took the lock, asleep
 *      or not;
 *   3. RCU-tasks again waits out what runs after srcu_read_unlock(): the
 *      rest of __srcu_read_unlock() and our return, which do not sleep.
 *
 * Without step 3, a task that slept inside the real submit_bio_noacct()
 * through step 1 and woke during step 2 returned into freed module text.
 * Without step 1, a task preempted before srcu_read_lock() while step 2
 * started could then sleep inside the lock through step 3.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/srcu.h>

#include "compat.h"
#include "hook.h"

DEFINE_STATIC_SRCU(hook_srcu);

/*
 * Fault injection for the test of volsnap_hook_exit(): with
 * debug_hook_delay_ms set (main.c), each hooked bio sleeps that long
 * inside the lock (as a task waiting for a tag would),
 * longer than the RCU-tasks grace periods of an unload, and then stays
 * runnable in module text after srcu_read_unlock() (cond_resched(), so
 * that the workers of the unload's grace periods still run), longer than
 * what is left of the unload once SRCU lets it go on.
 */
#define DEBUG_HOOK_SPIN_MS	1000U

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
	unsigned int delay = READ_ONCE(volsnap_debug_hook_delay_ms);
	int idx = srcu_read_lock(&hook_srcu);

	if (unlikely(delay) && !(bio->bi_opf & REQ_NOWAIT) && preemptible())
		msleep(delay);
	else
		delay = 0;
	if (!volsnap_origin_filter(bio))
		submit_bio_noacct(bio);
	srcu_read_unlock(&hook_srcu, idx);
	if (unlikely(delay)) {
		unsigned long end = jiffies +
			msecs_to_jiffies(min(delay, DEBUG_HOOK_SPIN_MS));

		/* Runnable, never asleep: RCU-tasks must wait for it. */
		while (time_before(jiffies, end))
			cond_resched();
	}
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

/* Wait for every task running or preempted in code that cannot sleep. */
static void hook_sync_tasks(void)
{
	synchronize_rcu_tasks_rude();
	synchronize_rcu_tasks();
}

/**
 * volsnap_hook_exit() - remove the hook and wait for every task in it
 *
 * The three waits and their order are explained at the top of this file.
 */
void volsnap_hook_exit(void)
{
	unregister_ftrace_function(&hook_ops);
	ftrace_set_filter_ip(&hook_ops, (unsigned long)submit_bio_noacct, 1, 0);
	hook_sync_tasks();		/* before srcu_read_lock() */
	synchronize_srcu(&hook_srcu);	/* inside the lock */
	hook_sync_tasks();		/* after srcu_read_unlock() */
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Events: what a backup program must learn without polling (a snapshot
 * became invalid, a store filled up to its threshold, a hold limit
 * expired).
 *
 * One ring of VOLSNAP_EVENT_RING records is shared by every reader. An
 * event gets the next sequence number and overwrites the oldest record;
 * each open file of the control device keeps the sequence number of the
 * next record it reads (its cursor), so no reader can hold up the others
 * or the code that raises events, and a file that is never read costs
 * nothing. A reader that fell more than the ring behind gets one
 * VOLSNAP_EVENT_LOST record with the count it missed.
 *
 * Events are raised from copy workers, the watchdog, the control path and
 * under the origin's snap_lock: raising only takes event_lock (irq-safe,
 * nothing nests inside it), wakes the readers and queues uevent_work,
 * which sends the uevents from process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "event.h"
#include "origin.h"

static_assert(sizeof(struct volsnap_event) == 80);
static_assert((VOLSNAP_EVENT_RING & (VOLSNAP_EVENT_RING - 1)) == 0);

static DEFINE_SPINLOCK(event_lock);	/* ring, next_seq */
static struct volsnap_event ring[VOLSNAP_EVENT_RING];
/* The sequence number the next event gets; the ring holds those before. */
static u64 next_seq = 1;
static DECLARE_WAIT_QUEUE_HEAD(event_wq);

/**
 * struct event_reader - an open file's place in the event stream
 * @lock: serialises reads of one file.
 * @next: sequence number of the next event to return (read under
 *	event_lock, changed under @lock and event_lock).
 */
struct event_reader {
	struct mutex lock;	/* one read() at a time */
	u64 next;
};

static void uevent_fn(struct work_struct *work);
static DECLARE_WORK(uevent_work, uevent_fn);
/* The next event to send a uevent for; volsnap_ctl_mutex protects it. */
static u64 uevent_next = 1;

/**
 * volsnap_event_raise() - send an event to every reader
 * @ev: the event; @seq and @time_ns are filled in here.
 *
 * Context: any, including atomic and under the origin's spinlocks; does
 * not sleep or allocate.
 */
void volsnap_event_raise(const struct volsnap_event *ev)
{
	struct volsnap_event *slot;
	unsigned long flags;

	spin_lock_irqsave(&event_lock, flags);
	slot = &ring[next_seq & (VOLSNAP_EVENT_RING - 1)];
	*slot = *ev;
	slot->seq = next_seq++;
	slot->time_ns = ktime_get_real_ns();
	spin_unlock_irqrestore(&event_lock, flags);
	wake_up_interruptible_poll(&event_wq, EPOLLIN | EPOLLRDNORM);
	schedule_work(&uevent_work);
}

/*
 * Take the event at *@next into *@ev and move *@next on: true if there was
 * one. A cursor that fell behind the ring gets a LOST record and moves to
 * the oldest event kept. event_lock held.
 */
static bool event_take(u64 *next, struct volsnap_event *ev)
{
	u64 oldest = next_seq > VOLSNAP_EVENT_RING ?
		     next_seq - VOLSNAP_EVENT_RING : 1;

	lockdep_assert_held(&event_lock);
	if (*next >= next_seq)
		return false;
	if (*next < oldest) {
		memset(ev, 0, sizeof(*ev));
		ev->type = VOLSNAP_EVENT_LOST;
		ev->seq = *next;
		ev->time_ns = ktime_get_real_ns();
		ev->count = oldest - *next;
		*next = oldest;
		return true;
	}
	*ev = ring[*next & (VOLSNAP_EVENT_RING - 1)];
	(*next)++;
	return true;
}

static bool event_pending(struct event_reader *r)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&event_lock, flags);
	ret = r->next < next_seq;
	spin_unlock_irqrestore(&event_lock, flags);
	return ret;
}

/**
 * volsnap_event_open() - a control file starts receiving events
 * @file: the control file being opened.
 *
 * It gets every event raised from now on.
 *
 * Return: 0 or -ENOMEM.
 */
int volsnap_event_open(struct file *file)
{
	struct event_reader *r = kzalloc(sizeof(*r), GFP_KERNEL);
	unsigned long flags;

	if (!r)
		return -ENOMEM;
	mutex_init(&r->lock);
	spin_lock_irqsave(&event_lock, flags);
	r->next = next_seq;
	spin_unlock_irqrestore(&event_lock, flags);
	file->private_data = r;
	return 0;
}

/**
 * volsnap_event_release() - a control file is closed
 * @file: the control file.
 */
void volsnap_event_release(struct file *file)
{
	kfree(file->private_data);
}

/**
 * volsnap_event_read() - read whole event records
 * @file: the control file.
 * @buf: user buffer.
 * @len: its size; at least one record.
 *
 * Context: process context; sleeps until an event is pending unless the
 * file is O_NONBLOCK.
 * Return: bytes read (a multiple of the record size), -EINVAL @len below
 * one record, -EAGAIN none pending with O_NONBLOCK, -ERESTARTSYS a signal
 * came first, -EFAULT, -EPERM the file was not opened with CAP_SYS_ADMIN.
 */
ssize_t volsnap_event_read(struct file *file, char __user *buf, size_t len)
{
	struct event_reader *r = file->private_data;
	struct volsnap_event ev;
	unsigned long flags;
	size_t done = 0;
	u64 next;
	int ret;

	/* The opener's credentials, as for the ioctls (not the reader's). */
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	if (len < sizeof(ev))
		return -EINVAL;
	if (file->f_flags & O_NONBLOCK) {
		if (!mutex_trylock(&r->lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&r->lock)) {
		return -ERESTARTSYS;
	}
	while (!event_pending(r)) {
		ret = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			goto unlock;
		mutex_unlock(&r->lock);
		if (wait_event_interruptible(event_wq, event_pending(r)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&r->lock))
			return -ERESTARTSYS;
	}
	while (done + sizeof(ev) <= len) {
		/* Copied out with the lock dropped: the buffer may fault. */
		spin_lock_irqsave(&event_lock, flags);
		next = r->next;
		if (!event_take(&next, &ev)) {
			spin_unlock_irqrestore(&event_lock, flags);
			break;
		}
		spin_unlock_irqrestore(&event_lock, flags);
		if (copy_to_user(buf + done, &ev, sizeof(ev))) {
			ret = -EFAULT;
			if (!done)
				goto unlock;
			break;	/* this one stays pending */
		}
		/* Readers of r->next take event_lock; it only moves here. */
		spin_lock_irqsave(&event_lock, flags);
		r->next = next;
		spin_unlock_irqrestore(&event_lock, flags);
		done += sizeof(ev);
	}
	ret = done;
unlock:
	mutex_unlock(&r->lock);
	return ret;
}

/**
 * volsnap_event_poll() - EPOLLIN while an event is pending
 * @file: the control file.
 * @wait: poll table.
 *
 * Return: the poll mask; EPOLLERR for a file read() would refuse.
 */
__poll_t volsnap_event_poll(struct file *file, struct poll_table_struct *wait)
{
	struct event_reader *r = file->private_data;

	/* read() would fail: say so rather than report events forever. */
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return EPOLLERR;
	poll_wait(file, &event_wq, wait);
	return event_pending(r) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const char *event_name(u32 type)
{
	switch (type) {
	case VOLSNAP_EVENT_INVALID:
		return "invalid";
	case VOLSNAP_EVENT_THRESHOLD:
		return "threshold";
	case VOLSNAP_EVENT_HOLD_EXPIRED:
		return "hold-expired";
	case VOLSNAP_EVENT_STORE_GROWN:
		return "store-grown";
	default:
		return NULL;
	}
}

/*
 * KOBJ_CHANGE on the origin's device, if it is still attached and its
 * device still registered (not one being removed). volsnap_ctl_mutex held:
 * it keeps the origin, and its open block device, attached.
 */
static void uevent_send(const struct volsnap_event *ev)
{
	char env[7][48];
	char *envp[8];
	struct volsnap_origin *o;
	const char *name = event_name(ev->type);
	int n = 0;

	lockdep_assert_held(&volsnap_ctl_mutex);
	if (!name)
		return;
	o = volsnap_origin_find(MKDEV(ev->major, ev->minor));
	if (!o || !device_is_registered(&o->bdev.bdev->bd_device))
		return;
	snprintf(env[n++], sizeof(env[0]), "VOLSNAP_EVENT=%s", name);
	snprintf(env[n++], sizeof(env[0]), "VOLSNAP_SEQ=%llu", ev->seq);
	switch (ev->type) {
	case VOLSNAP_EVENT_INVALID:
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_SNAPSHOT=%u",
			 ev->snapshot_id);
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_IMAGE=volsnap%u",
			 ev->image_index);
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_ERROR=%d", ev->error);
		break;
	case VOLSNAP_EVENT_THRESHOLD:
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_THRESHOLD=%u",
			 ev->threshold);
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_STORE_USED=%llu",
			 ev->count);
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_STORE_CHUNKS=%llu",
			 ev->total);
		break;
	case VOLSNAP_EVENT_HOLD_EXPIRED:
		snprintf(env[n++], sizeof(env[0]), "VOLSNAP_HOLD_LIMIT_MS=%llu",
			 ev->count);
		break;
	}
	for (envp[n] = NULL; n--; )
		envp[n] = env[n];
	kobject_uevent_env(&o->bdev.bdev->bd_device.kobj, KOBJ_CHANGE, envp);
}

/**
 * volsnap_event_flush_uevents() - send the uevents of the events raised
 * since the last call
 *
 * Called by the uevent work, and before an origin is detached, so that the
 * events raised just before (the origin or store disappeared) still reach
 * udev. uevent_next is only used here, under the mutex.
 *
 * Context: volsnap_ctl_mutex held. No reclaim may write meanwhile: it
 * could wait for a frozen filesystem, whose thaw waits for the mutex.
 */
void volsnap_event_flush_uevents(void)
{
	unsigned int noio = memalloc_noio_save();
	struct volsnap_event ev;
	unsigned long flags;
	bool more;

	lockdep_assert_held(&volsnap_ctl_mutex);
	for (;;) {
		spin_lock_irqsave(&event_lock, flags);
		more = event_take(&uevent_next, &ev);
		spin_unlock_irqrestore(&event_lock, flags);
		if (!more)
			break;
		if (ev.type == VOLSNAP_EVENT_LOST)
			pr_warn_ratelimited("%llu uevents lost\n", ev.count);
		else
			uevent_send(&ev);
	}
	memalloc_noio_restore(noio);
}

static void uevent_fn(struct work_struct *work)
{
	mutex_lock(&volsnap_ctl_mutex);
	volsnap_event_flush_uevents();
	mutex_unlock(&volsnap_ctl_mutex);
}

/**
 * volsnap_event_exit() - wait for the uevents still being sent
 *
 * Context: the control device is gone and no origin is attached, so no
 * event is raised any more.
 */
void volsnap_event_exit(void)
{
	cancel_work_sync(&uevent_work);
}

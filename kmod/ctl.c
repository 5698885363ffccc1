// SPDX-License-Identifier: GPL-2.0
/*
 * The control device.
 *
 * Every command is an ioctl on /dev/volsnap-ctl and needs CAP_SYS_ADMIN.
 * Arguments are copied in whole, their flags and reserved fields checked
 * before anything is looked up, so a rejected call changes nothing.
 * The same file reads events (event.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/volsnap.h>

#include "ctl.h"
#include "event.h"
#include "origin.h"
#include "snapshot.h"

/* Features this build implements; a bit appears with its code. */
#define VOLSNAP_FEATURES \
	(VOLSNAP_FEAT_ATTACH | VOLSNAP_FEAT_SNAPSHOT | VOLSNAP_FEAT_FREEZE | \
	 VOLSNAP_FEAT_SET | VOLSNAP_FEAT_DIFF | VOLSNAP_FEAT_REVERT | \
	 VOLSNAP_FEAT_WRITABLE | VOLSNAP_FEAT_FILE_STORE | \
	 VOLSNAP_FEAT_EVENTS)

/* The last snapshot set's id (0: none yet); under volsnap_ctl_mutex. */
static u64 last_set_id;

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

/* The device number behind a block-device file descriptor. */
static int fd_to_dev(int fd, dev_t *dev)
{
	struct file *file = fget(fd);
	struct inode *inode;
	int ret = 0;

	if (!file)
		return -EBADF;
	inode = file_inode(file);
	if (S_ISBLK(inode->i_mode))
		*dev = inode->i_rdev;
	else
		ret = -ENOTBLK;
	fput(file);
	return ret;
}

/*
 * The store behind @fd: a block device's number in *@dev, or a regular
 * file in *@file (a reference the caller puts).
 */
static int fd_to_store(int fd, dev_t *dev, struct file **file)
{
	struct file *f = fget(fd);
	umode_t mode;

	if (!f)
		return -EBADF;
	mode = file_inode(f)->i_mode;
	*file = NULL;
	if (S_ISREG(mode)) {
		*file = f;
		*dev = 0;
		return 0;
	}
	fput(f);
	if (S_ISDIR(mode))
		return -EISDIR;
	return fd_to_dev(fd, dev);
}

static long ctl_attach(struct volsnap_attach __user *uarg)
{
	struct file *store_file = NULL;
	struct volsnap_attach a;
	dev_t origin, store;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags || !all_zero(a.reserved, sizeof(a.reserved)))
		return -EINVAL;
	if (!a.chunk_size)
		a.chunk_size = VOLSNAP_CHUNK_DEFAULT;
	if (!is_power_of_2(a.chunk_size) || a.chunk_size < VOLSNAP_CHUNK_MIN ||
	    a.chunk_size > VOLSNAP_CHUNK_MAX || a.chunk_size < PAGE_SIZE)
		return -EINVAL;
	ret = fd_to_dev(a.origin_fd, &origin);
	if (!ret)
		ret = fd_to_store(a.store_fd, &store, &store_file);
	if (ret)
		return ret;

	mutex_lock(&volsnap_ctl_mutex);
	ret = volsnap_origin_attach(origin, store, store_file, a.chunk_size);
	mutex_unlock(&volsnap_ctl_mutex);
	if (store_file)
		fput(store_file);
	return ret;
}

/* The attached origin a command names; volsnap_ctl_mutex held. */
static struct volsnap_origin *find_origin(u32 major, u32 minor)
{
	if (major > MAJOR(~0U) || minor > MINOR(~0U))
		return NULL;
	return volsnap_origin_find(MKDEV(major, minor));
}

static long ctl_origin_cmd(struct file *file, unsigned int cmd,
			   struct volsnap_origin_cmd __user *uarg)
{
	u32 allowed = cmd == VOLSNAP_IOC_DETACH ? VOLSNAP_DETACH_FORCE : 0;
	struct volsnap_origin_cmd c;
	struct volsnap_origin *o;
	long ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if ((c.flags & ~allowed) || c.pad || !all_zero(c.reserved, sizeof(c.reserved)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(c.major, c.minor);
	if (!o)
		ret = -ENODEV;
	else if (cmd == VOLSNAP_IOC_DETACH)
		ret = volsnap_origin_detach(o, c.flags & VOLSNAP_DETACH_FORCE);
	else if (cmd == VOLSNAP_IOC_FREEZE)
		ret = volsnap_origin_freeze(o, file);
	else
		ret = volsnap_origin_thaw(o);
	mutex_unlock(&volsnap_ctl_mutex);
	return ret;
}

static long ctl_create(struct volsnap_create __user *uarg)
{
	struct volsnap_create c;
	struct volsnap_origin *o;
	long ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if ((c.flags & ~(VOLSNAP_CREATE_FROZEN | VOLSNAP_CREATE_WRITABLE)) ||
	    c.pad || c.id ||
	    c.image_index || c.image_major || c.image_minor || c.hold_ns ||
	    !all_zero(c.reserved, sizeof(c.reserved)))
		return -EINVAL;
	/*
	 * The result goes back through @uarg: make sure it can before a
	 * snapshot exists, or a caller with a read-only buffer would get
	 * -EFAULT for a snapshot it cannot name.
	 */
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(c.major, c.minor);
	ret = o ? volsnap_origin_snapshot(o, c.flags & VOLSNAP_CREATE_FROZEN, &c)
		: -ENODEV;
	/* Under the mutex still: nobody has had the chance to delete it. */
	if (!ret && (c.flags & VOLSNAP_CREATE_WRITABLE))
		volsnap_snapshot_make_writable(volsnap_snapshot_find(o, c.id));
	mutex_unlock(&volsnap_ctl_mutex);
	if (!ret && copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	return ret;
}

/* A member as VOLSNAP_IOC_CREATE takes it: only the origin given. */
static bool member_valid(const struct volsnap_create *c)
{
	return !c->flags && !c->pad && !c->id && !c->image_index &&
	       !c->image_major && !c->image_minor && !c->hold_ns &&
	       all_zero(c->reserved, sizeof(c->reserved));
}

static long ctl_create_set(struct volsnap_create_set __user *uarg)
{
	struct volsnap_create_set cs;
	struct volsnap_origin **os;
	struct volsnap_create *m;
	void __user *members;
	unsigned int i, j;
	size_t size;
	long ret;

	if (copy_from_user(&cs, uarg, sizeof(cs)))
		return -EFAULT;
	if (cs.flags || !cs.count || cs.count > VOLSNAP_SET_MAX ||
	    cs.set_id || cs.hold_ns || cs.failed || cs.pad ||
	    !all_zero(cs.reserved, sizeof(cs.reserved)))
		return -EINVAL;
	members = u64_to_user_ptr(cs.members);
	size = array_size(cs.count, sizeof(*m));
	m = memdup_user(members, size);
	if (IS_ERR(m))
		return PTR_ERR(m);
	os = kcalloc(cs.count, sizeof(*os), GFP_KERNEL);
	ret = -ENOMEM;
	if (!os)
		goto out;
	ret = -EINVAL;
	for (i = 0; i < cs.count; i++) {
		if (!member_valid(&m[i]))
			goto out;
		for (j = 0; j < i; j++)
			if (m[j].major == m[i].major && m[j].minor == m[i].minor)
				goto out;
	}
	/* As for create: the results must be able to go back first. */
	ret = -EFAULT;
	if (copy_to_user(members, m, size) || copy_to_user(uarg, &cs, sizeof(cs)))
		goto out;

	cs.failed = cs.count;
	mutex_lock(&volsnap_ctl_mutex);
	ret = 0;
	for (i = 0; i < cs.count && !ret; i++) {
		os[i] = find_origin(m[i].major, m[i].minor);
		if (!os[i]) {
			cs.failed = i;
			ret = -ENODEV;
		}
	}
	if (!ret) {
		cs.set_id = ++last_set_id;
		ret = volsnap_origin_snapshot_set(os, cs.count, cs.set_id, m,
						  &cs.failed);
	}
	mutex_unlock(&volsnap_ctl_mutex);
	if (ret) {
		cs.set_id = 0;
		if (copy_to_user(&uarg->failed, &cs.failed, sizeof(cs.failed)))
			ret = -EFAULT;
		goto out;
	}
	cs.hold_ns = m[0].hold_ns;
	cs.failed = 0;
	if (copy_to_user(members, m, size) || copy_to_user(uarg, &cs, sizeof(cs)))
		ret = -EFAULT;
out:
	kfree(os);
	kfree(m);
	return ret;
}

static long ctl_delete(struct volsnap_delete __user *uarg)
{
	struct volsnap_snapshot *s;
	struct volsnap_origin *o;
	struct volsnap_delete d;
	long ret;

	if (copy_from_user(&d, uarg, sizeof(d)))
		return -EFAULT;
	if ((d.flags & ~VOLSNAP_DELETE_FORCE) || !all_zero(d.reserved, sizeof(d.reserved)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(d.major, d.minor);
	s = o ? volsnap_snapshot_find(o, d.id) : NULL;
	if (!o)
		ret = -ENODEV;
	else if (!s)
		ret = -ENOENT;
	else if (s->epoch == o->revert_id)
		ret = -EBUSY;	/* being written back: detach --force ends that */
	else
		ret = volsnap_snapshot_delete(s, d.flags & VOLSNAP_DELETE_FORCE);
	mutex_unlock(&volsnap_ctl_mutex);
	return ret;
}

/*
 * A snapshot that @d names, in @o; NULL with the live origin (@to with
 * %VOLSNAP_DIFF_NOW). Sets *@ret when it cannot be used.
 */
static struct volsnap_snapshot *diff_point(struct volsnap_origin *o, u32 id,
					   long *ret)
{
	struct volsnap_snapshot *s = volsnap_snapshot_find(o, id);

	if (!s)
		*ret = -ENOENT;
	else if (READ_ONCE(s->error))
		*ret = -ESTALE;
	else if (READ_ONCE(s->writable))
		*ret = -EMEDIUMTYPE;	/* its own writes are not in the map */
	return s;
}

static long ctl_diff(struct volsnap_diff __user *uarg)
{
	struct volsnap_snapshot *from, *to = NULL;
	struct volsnap_extent *runs;
	struct volsnap_origin *o;
	struct volsnap_diff d;
	unsigned int n = 0;
	long ret = 0;
	u64 end;

	if (copy_from_user(&d, uarg, sizeof(d)))
		return -EFAULT;
	if ((d.flags & ~VOLSNAP_DIFF_NOW) || d.pad || d.chunk_size ||
	    d.from_sectors || d.to_sectors ||
	    !all_zero(d.reserved, sizeof(d.reserved)) ||
	    !d.count || d.count > VOLSNAP_DIFF_MAX)
		return -EINVAL;
	if ((d.flags & VOLSNAP_DIFF_NOW) ? d.to : d.to <= d.from)
		return -EINVAL;
	runs = kvmalloc_array(d.count, sizeof(*runs), GFP_KERNEL);
	if (!runs)
		return -ENOMEM;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(d.major, d.minor);
	if (!o) {
		ret = -ENODEV;
		goto unlock;
	}
	from = diff_point(o, d.from, &ret);
	if (!ret && !(d.flags & VOLSNAP_DIFF_NOW))
		to = diff_point(o, d.to, &ret);
	if (ret)
		goto unlock;
	/* The size both points have, and the map covers. */
	end = min3(o->nr_sectors, get_capacity(from->disk),
		   to ? get_capacity(to->disk) : bdev_nr_sectors(o->bdev.bdev));
	end = DIV_ROUND_UP_ULL(end, volsnap_chunk_sectors(o));
	if (d.start > end) {
		ret = -EINVAL;
		goto unlock;
	}
	/*
	 * Up to now: a write that reached the origin went on once its copy
	 * was read, before the copy was published; wait for those copies.
	 * Between two snapshots there are none: an instant waits for them.
	 */
	if (!to)
		flush_workqueue(o->wq);
	n = d.count;
	d.start = volsnap_chunkmap_changed(&o->map, from->epoch,
					   to ? to->epoch : U32_MAX, d.start,
					   end, runs, &n);
	d.count = n;
	/* Invalidated meanwhile: what changed is no longer known. */
	if (READ_ONCE(from->error) || (to && READ_ONCE(to->error))) {
		ret = -ESTALE;
		goto unlock;
	}
	d.chunk_size = SECTOR_SIZE << o->chunk_shift;
	d.from_sectors = get_capacity(from->disk);
	d.to_sectors = to ? get_capacity(to->disk) : bdev_nr_sectors(o->bdev.bdev);
unlock:
	mutex_unlock(&volsnap_ctl_mutex);
	if (!ret && n && copy_to_user(u64_to_user_ptr(d.extents), runs,
				      array_size(n, sizeof(*runs))))
		ret = -EFAULT;
	kvfree(runs);
	if (!ret && copy_to_user(uarg, &d, sizeof(d)))
		ret = -EFAULT;
	return ret;
}

static long ctl_revert(struct file *file, struct volsnap_revert __user *uarg)
{
	struct volsnap_snapshot *s;
	struct volsnap_origin *o;
	struct volsnap_revert r;
	long ret;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if ((r.flags & ~VOLSNAP_REVERT_END) ||
	    !all_zero(r.reserved, sizeof(r.reserved)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(r.major, r.minor);
	s = o ? volsnap_snapshot_find(o, r.id) : NULL;
	if (!o)
		ret = -ENODEV;
	else if (!s)
		ret = -ENOENT;
	else
		ret = volsnap_origin_revert(o, s, r.flags & VOLSNAP_REVERT_END, file);
	mutex_unlock(&volsnap_ctl_mutex);
	return ret;
}

static long ctl_writable(struct volsnap_writable __user *uarg)
{
	struct volsnap_snapshot *s;
	struct volsnap_origin *o;
	struct volsnap_writable w;
	long ret;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.flags || !all_zero(w.reserved, sizeof(w.reserved)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(w.major, w.minor);
	s = o ? volsnap_snapshot_find(o, w.id) : NULL;
	if (!o)
		ret = -ENODEV;
	else if (!s)
		ret = -ENOENT;
	else
		ret = volsnap_snapshot_make_writable(s);
	mutex_unlock(&volsnap_ctl_mutex);
	return ret;
}

static long ctl_set(struct volsnap_origin_set __user *uarg)
{
	struct volsnap_origin_set set;
	struct volsnap_origin *o;

	if (copy_from_user(&set, uarg, sizeof(set)))
		return -EFAULT;
	if (!set.flags || (set.flags & ~VOLSNAP_ORIGIN_SET_THRESHOLD) ||
	    !all_zero(set.reserved, sizeof(set.reserved)))
		return -EINVAL;
	if (set.threshold > 100)
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(set.major, set.minor);
	if (o)
		volsnap_store_set_threshold(o->store, set.threshold);
	mutex_unlock(&volsnap_ctl_mutex);
	return o ? 0 : -ENODEV;
}

static void origin_info(struct volsnap_origin *o, struct volsnap_origin_info *info)
{
	dev_t store = o->store->bdev->bd_dev;

	memset(info, 0, sizeof(*info));
	info->major = MAJOR(o->dev);
	info->minor = MINOR(o->dev);
	info->store_major = MAJOR(store);
	info->store_minor = MINOR(store);
	if (o->store->file) {
		info->state |= VOLSNAP_ORIGIN_STORE_FILE;
		info->store_ino = file_inode(o->store->file)->i_ino;
	}
	info->chunk_size = SECTOR_SIZE << o->chunk_shift;
	/* The watchdog may change it under us: one read. */
	switch (READ_ONCE(o->freeze)) {
	case VOLSNAP_FROZEN:
		info->state |= VOLSNAP_ORIGIN_FROZEN;
		break;
	case VOLSNAP_TIMED_OUT:
		info->state |= VOLSNAP_ORIGIN_TIMED_OUT;
		break;
	default:
		break;
	}
	if (o->revert_id) {
		info->state |= VOLSNAP_ORIGIN_REVERTING;
		info->revert_id = o->revert_id;
	}
	info->origin_sectors = o->nr_sectors;
	info->store_chunks = o->store->nr_chunks;
	info->store_used = volsnap_store_used(o->store);
	info->nr_snapshots = o->nr_snapshots;
	info->threshold = volsnap_store_threshold(o->store);
}

/*
 * Both listings are gathered under volsnap_ctl_mutex into a kernel buffer
 * and copied to user space after it is dropped: a user buffer may fault
 * on a page of a frozen filesystem, and nothing may wait for that while
 * holding a lock another control operation needs.
 */
static long ctl_list(struct volsnap_list __user *uarg)
{
	struct volsnap_origin_info *infos = NULL;
	struct volsnap_origin *o;
	struct volsnap_list l;
	u32 n = 0, want;
	long ret = 0;

	if (copy_from_user(&l, uarg, sizeof(l)))
		return -EFAULT;
	if (l.flags || !all_zero(l.reserved, sizeof(l.reserved)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	for (o = NULL; (o = volsnap_origin_next(o)); )
		n++;
	want = min(n, l.count);
	if (want) {
		infos = kvcalloc(want, sizeof(*infos), GFP_KERNEL);
		if (!infos) {
			mutex_unlock(&volsnap_ctl_mutex);
			return -ENOMEM;
		}
	}
	n = 0;
	for (o = NULL; (o = volsnap_origin_next(o)); n++)
		if (n < want)
			origin_info(o, &infos[n]);
	mutex_unlock(&volsnap_ctl_mutex);

	if (want && copy_to_user(u64_to_user_ptr(l.origins), infos,
				 array_size(want, sizeof(*infos))))
		ret = -EFAULT;
	kvfree(infos);
	if (!ret && put_user(n, &uarg->count))
		ret = -EFAULT;
	return ret;
}

/*
 * Fill alone_chunks of @infos[0..@n): per valid snapshot, the copies no
 * other valid snapshot of @o reads, which deleting it would free.
 */
static int status_alone(struct volsnap_origin *o,
			struct volsnap_snapshot_info *infos, u32 n)
{
	struct volsnap_snapshot *s;
	unsigned int nr = 0, i, j;
	u32 *epochs;
	u64 *alone;
	int ret = -ENOMEM;

	lockdep_assert_held(&volsnap_ctl_mutex);
	epochs = kvmalloc_array(o->nr_snapshots, sizeof(*epochs), GFP_KERNEL);
	alone = kvcalloc(o->nr_snapshots, sizeof(*alone), GFP_KERNEL);
	if (!epochs || !alone)
		goto out;
	/* In increasing epoch order, as the list is. */
	list_for_each_entry(s, &o->snapshots, node)
		if (!READ_ONCE(s->error))
			epochs[nr++] = s->epoch;
	volsnap_chunkmap_alone(&o->map, epochs, nr, alone);
	for (i = 0, j = 0; i < n; i++) {
		while (j < nr && epochs[j] < infos[i].id)
			j++;
		if (j < nr && epochs[j] == infos[i].id)
			infos[i].alone_chunks = alone[j];
	}
	ret = 0;
out:
	kvfree(alone);
	kvfree(epochs);
	return ret;
}

static long ctl_status(struct volsnap_status __user *uarg)
{
	struct volsnap_snapshot_info *infos = NULL;
	struct volsnap_snapshot *s;
	struct volsnap_origin *o;
	struct volsnap_status st;
	u32 n = 0, want;
	long ret = 0;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	if (st.flags || !all_zero(st.reserved, sizeof(st.reserved)) ||
	    !all_zero(&st.origin, sizeof(st.origin)))
		return -EINVAL;

	mutex_lock(&volsnap_ctl_mutex);
	o = find_origin(st.major, st.minor);
	if (!o) {
		mutex_unlock(&volsnap_ctl_mutex);
		return -ENODEV;
	}
	/* At most max_snapshots (1024) entries. */
	want = min(o->nr_snapshots, st.count);
	if (want) {
		infos = kvcalloc(want, sizeof(*infos), GFP_KERNEL);
		if (!infos) {
			mutex_unlock(&volsnap_ctl_mutex);
			return -ENOMEM;
		}
	}
	origin_info(o, &st.origin);
	/* The list only changes under the mutex we hold. */
	list_for_each_entry(s, &o->snapshots, node) {
		if (n < want)
			volsnap_snapshot_info(s, &infos[n]);
		n++;
	}
	if (want)
		ret = status_alone(o, infos, want);
	mutex_unlock(&volsnap_ctl_mutex);
	if (ret)
		goto free;

	st.count = n;
	if (want && copy_to_user(u64_to_user_ptr(st.snapshots), infos,
				 array_size(want, sizeof(*infos))))
		ret = -EFAULT;
free:
	kvfree(infos);
	if (!ret && copy_to_user(uarg, &st, sizeof(st)))
		ret = -EFAULT;
	return ret;
}

static long ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case VOLSNAP_IOC_FEATURES:
		return ctl_features(uarg);
	case VOLSNAP_IOC_ATTACH:
		return ctl_attach(uarg);
	case VOLSNAP_IOC_DETACH:
	case VOLSNAP_IOC_FREEZE:
	case VOLSNAP_IOC_THAW:
		return ctl_origin_cmd(file, cmd, uarg);
	case VOLSNAP_IOC_CREATE:
		return ctl_create(uarg);
	case VOLSNAP_IOC_CREATE_SET:
		return ctl_create_set(uarg);
	case VOLSNAP_IOC_DELETE:
		return ctl_delete(uarg);
	case VOLSNAP_IOC_LIST:
		return ctl_list(uarg);
	case VOLSNAP_IOC_STATUS:
		return ctl_status(uarg);
	case VOLSNAP_IOC_DIFF:
		return ctl_diff(uarg);
	case VOLSNAP_IOC_REVERT:
		return ctl_revert(file, uarg);
	case VOLSNAP_IOC_WRITABLE:
		return ctl_writable(uarg);
	case VOLSNAP_IOC_ORIGIN_SET:
		return ctl_set(uarg);
	default:
		return -ENOTTY;
	}
}

/* Each open file reads the events raised from now on. */
static int ctl_open(struct inode *inode, struct file *file)
{
	int ret = volsnap_event_open(file);

	return ret ?: nonseekable_open(inode, file);
}

/* Closing the file that froze an origin thaws it. */
static int ctl_release(struct inode *inode, struct file *file)
{
	volsnap_origin_release_owner(file);
	volsnap_event_release(file);
	return 0;
}

static ssize_t ctl_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	return volsnap_event_read(file, buf, len);
}

static const struct file_operations ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= ctl_open,
	.release	= ctl_release,
	.read		= ctl_read,
	.poll		= volsnap_event_poll,
	.unlocked_ioctl	= ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ctl_misc = {
	.minor		= VOLSNAP_CTL_MINOR,
	.name		= VOLSNAP_CTL_NAME,
	.fops		= &ctl_fops,
	.mode		= 0600,
};

/**
 * volsnap_ctl_init() - register the control device
 *
 * At its fixed minor, VOLSNAP_CTL_MINOR, so that opening the node loads
 * the module. Another driver at that minor fails the load: a node made
 * for volsnap at boot (kmod static-nodes) would reach that driver.
 *
 * Return: 0 or a negative errno from misc_register().
 */
int volsnap_ctl_init(void)
{
	int ret = misc_register(&ctl_misc);

	if (ret == -EBUSY)
		pr_err("misc minor %d is another driver's: /dev/%s would reach it\n",
		       VOLSNAP_CTL_MINOR, VOLSNAP_CTL_NAME);
	return ret;
}

/**
 * volsnap_ctl_exit() - unregister the control device
 */
void volsnap_ctl_exit(void)
{
	misc_deregister(&ctl_misc);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Which block devices write to which.
 *
 * A write to a device reaches another when they share sectors of one disk
 * (a partition and its whole disk), when the device is a driver stacked on
 * the other (dm and md link each device they map onto in the "slaves"
 * directory of their disk), or when it is a loop device whose backing file
 * lives on a filesystem whose device reaches the other. The attach path
 * uses this to refuse a store whose writes would come back into its
 * origin, and an origin stacked on its store.
 *
 * The kernel exports no list of a disk's slaves, so every block device is
 * looked up by name in the slaves directory; nor a loop device's backing
 * file, so its sysfs attribute "loop/backing_file" is read through the
 * attribute's own show method and the path is resolved. Both walks run at
 * attach and at a snapshot set's creation, on devices the caller holds
 * open or that their stacking driver holds open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kernfs.h>
#include <linux/major.h>
#include <linux/namei.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "stack.h"

/* Levels of stacking followed; a deeper stack counts as reaching. */
#define STACK_DEPTH	8

static bool reaches(struct block_device *bdev, struct block_device *target,
		    int depth);

static bool overlap(struct block_device *a, struct block_device *b)
{
	return a->bd_disk == b->bd_disk &&
	       a->bd_start_sect < b->bd_start_sect + bdev_nr_sectors(b) &&
	       b->bd_start_sect < a->bd_start_sect + bdev_nr_sectors(a);
}

/* Does a device that @disk (dm, md) maps onto reach @target? */
static bool slaves_reach(struct gendisk *disk, struct block_device *target,
			 int depth)
{
	struct kobject *slaves = disk->slave_dir;
	struct class_dev_iter iter;
	struct kernfs_node *kn;
	struct device *dev;
	bool found = false;

	if (!slaves)
		return false;
	class_dev_iter_init(&iter, disk_to_dev(disk)->class, NULL, NULL);
	while (!found && (dev = class_dev_iter_next(&iter))) {
		kn = kernfs_find_and_get(slaves->sd, dev_name(dev));
		if (!kn)
			continue;
		kernfs_put(kn);
		found = !depth || reaches(dev_to_bdev(dev), target, depth - 1);
	}
	class_dev_iter_exit(&iter);
	return found;
}

/*
 * Read loop device @disk's backing file path into @buf (a page). Return
 * its length, 0 if the device has no backing file, or a negative errno.
 */
static ssize_t loop_backing_path(struct gendisk *disk, char *buf)
{
	struct kobject *kobj = &disk_to_dev(disk)->kobj;
	struct kernfs_node *dir, *kn;
	ssize_t len = 0;

	dir = kernfs_find_and_get(kobj->sd, "loop");
	if (!dir)
		return 0;
	kn = kernfs_find_and_get(dir, "backing_file");
	kernfs_put(dir);
	if (!kn)
		return 0;
	/* A sysfs file's private data is its attribute. */
	len = kobj->ktype->sysfs_ops->show(kobj, kn->priv, buf);
	kernfs_put(kn);
	return len;
}

/*
 * Does a write to the file at @path reach @target? Through the filesystem
 * that really holds it (d_real_inode() sees through overlayfs), or, for a
 * block device node, through that device. A filesystem that needs a block
 * device but names none in s_bdev (btrfs, which may span several) cannot
 * be told apart: taken as reaching.
 */
static bool file_reaches(const struct path *path, struct block_device *target,
			 int depth)
{
	struct inode *inode = d_real_inode(path->dentry);
	struct super_block *sb = inode->i_sb;
	struct device *dev;
	bool found;

	if (S_ISBLK(inode->i_mode)) {
		dev = class_find_device_by_devt(disk_to_dev(target->bd_disk)->class,
						inode->i_rdev);
		if (!dev)
			return false;	/* no such device: no write reaches */
		found = !depth || reaches(dev_to_bdev(dev), target, depth - 1);
		put_device(dev);
		return found;
	}
	if (!sb->s_bdev)
		return sb->s_type->fs_flags & FS_REQUIRES_DEV;
	return !depth || reaches(sb->s_bdev, target, depth - 1);
}

/* Does the filesystem holding loop device @disk's backing file reach @target? */
static bool loop_reaches(struct gendisk *disk, struct block_device *target,
			 int depth)
{
	struct path path;
	bool found;
	ssize_t len;
	char *buf;

	buf = (char *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return true;	/* cannot tell: refuse */
	len = loop_backing_path(disk, buf);
	if (len <= 0) {
		found = len < 0;
		goto out;
	}
	buf[min_t(size_t, len, PAGE_SIZE - 1)] = '\0';
	strim(buf);
	if (kern_path(buf, LOOKUP_FOLLOW, &path)) {
		pr_warn("%s: backing file %s not found: taken as stacked\n",
			disk->disk_name, buf);
		found = true;
		goto out;
	}
	found = file_reaches(&path, target, depth);
	path_put(&path);
out:
	free_page((unsigned long)buf);
	return found;
}

static bool reaches(struct block_device *bdev, struct block_device *target,
		    int depth)
{
	struct gendisk *disk = bdev->bd_disk;

	if (overlap(bdev, target))
		return true;
	if (disk->major == LOOP_MAJOR)
		return loop_reaches(disk, target, depth);
	return slaves_reach(disk, target, depth);
}

/**
 * volsnap_bdev_reaches() - may a write to one device change another?
 * @bdev: the device written.
 * @target: the device that must not change.
 *
 * Context: process context, may sleep (path lookup); not on the I/O path.
 * Return: true if the devices overlap, or @bdev is stacked on a device
 * that reaches @target (dm, md, a loop file), or the stack is too deep or
 * unclear to tell.
 */
bool volsnap_bdev_reaches(struct block_device *bdev,
			  struct block_device *target)
{
	return reaches(bdev, target, STACK_DEPTH);
}

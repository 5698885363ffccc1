// SPDX-License-Identifier: GPL-2.0
/* The volsnap ioctls wrapped for C tests; see vsops.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "vsops.h"

const char *vs_disk(const char *env, const char *def)
{
	const char *v = getenv(env);

	return v && *v ? v : def;
}

int vs_devno(const char *path, unsigned int *maj, unsigned int *min)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*maj = major(st.st_rdev);
	*min = minor(st.st_rdev);
	return 0;
}

u64 vs_dev_sectors(const char *path)
{
	u64 bytes = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		bytes = 0;
	close(fd);
	return bytes >> 9;
}

static int do_ioctl(int ctl, unsigned long cmd, void *arg)
{
	return ioctl(ctl, cmd, arg) ? -errno : 0;
}

int vs_attach(int ctl, const char *origin, const char *store,
	      unsigned int chunk_size)
{
	struct volsnap_attach a;
	int ofd, sfd, ret;

	ofd = open(origin, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return -errno;
	sfd = open(store, O_RDWR | O_CLOEXEC);
	if (sfd < 0) {
		ret = -errno;
		close(ofd);
		return ret;
	}
	memset(&a, 0, sizeof(a));
	a.origin_fd = ofd;
	a.store_fd = sfd;
	a.chunk_size = chunk_size;
	ret = do_ioctl(ctl, VOLSNAP_IOC_ATTACH, &a);
	close(sfd);
	close(ofd);
	return ret;
}

static int origin_cmd(int ctl, unsigned long cmd, const char *origin,
		      unsigned int flags)
{
	struct volsnap_origin_cmd c;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = vs_devno(origin, &c.major, &c.minor);
	if (ret)
		return ret;
	c.flags = flags;
	return do_ioctl(ctl, cmd, &c);
}

int vs_detach(int ctl, const char *origin, bool force)
{
	return origin_cmd(ctl, VOLSNAP_IOC_DETACH, origin,
			  force ? VOLSNAP_DETACH_FORCE : 0);
}

int vs_create(int ctl, const char *origin, unsigned int flags,
	      struct volsnap_create *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = vs_devno(origin, &out->major, &out->minor);
	if (ret)
		return ret;
	out->flags = flags;
	return do_ioctl(ctl, VOLSNAP_IOC_CREATE, out);
}

int vs_delete(int ctl, const char *origin, unsigned int id, bool force)
{
	struct volsnap_delete d;
	int ret;

	memset(&d, 0, sizeof(d));
	ret = vs_devno(origin, &d.major, &d.minor);
	if (ret)
		return ret;
	d.id = id;
	d.flags = force ? VOLSNAP_DELETE_FORCE : 0;
	return do_ioctl(ctl, VOLSNAP_IOC_DELETE, &d);
}

int vs_status(int ctl, const char *origin, struct volsnap_origin_info *info,
	      struct volsnap_snapshot_info *snaps, unsigned int *count)
{
	struct volsnap_status s;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = vs_devno(origin, &s.major, &s.minor);
	if (ret)
		return ret;
	s.count = snaps ? *count : 0;
	s.snapshots = (uintptr_t)snaps;
	ret = do_ioctl(ctl, VOLSNAP_IOC_STATUS, &s);
	if (ret)
		return ret;
	if (info)
		*info = s.origin;
	if (count)
		*count = s.count;
	return 0;
}

int vs_snap_info(int ctl, const char *origin, unsigned int id,
		 struct volsnap_snapshot_info *out)
{
	struct volsnap_snapshot_info *snaps;
	unsigned int i, count = 0, cap;
	int ret;

	ret = vs_status(ctl, origin, NULL, NULL, &count);
	if (ret)
		return ret;
	cap = count + 8;
	snaps = calloc(cap, sizeof(*snaps));
	if (!snaps)
		return -ENOMEM;
	count = cap;
	ret = vs_status(ctl, origin, NULL, snaps, &count);
	if (!ret) {
		ret = -ENOENT;
		for (i = 0; i < count && i < cap; i++) {
			if (snaps[i].id == id) {
				*out = snaps[i];
				ret = 0;
				break;
			}
		}
	}
	free(snaps);
	return ret;
}

int vs_detach_all(int ctl)
{
	struct volsnap_origin_info infos[64];
	struct volsnap_origin_cmd c;
	struct volsnap_list l;
	unsigned int i, n;
	int ret, done = 0;

	memset(&l, 0, sizeof(l));
	l.count = 64;
	l.origins = (uintptr_t)infos;
	ret = do_ioctl(ctl, VOLSNAP_IOC_LIST, &l);
	if (ret)
		return ret;
	n = l.count < 64 ? l.count : 64;
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		c.major = infos[i].major;
		c.minor = infos[i].minor;
		c.flags = VOLSNAP_DETACH_FORCE;
		ret = do_ioctl(ctl, VOLSNAP_IOC_DETACH, &c);
		if (!ret)
			done++;
		else
			printf("# detach --force %u:%u: %s\n", c.major, c.minor,
			       strerror(-ret));
	}
	return done;
}

void vs_image_path(unsigned int index, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/volsnap%u", index);
}

int vs_image_open(unsigned int index, int flags)
{
	char path[32];
	int i, fd = -1;

	vs_image_path(index, path, sizeof(path));
	for (i = 0; i < 100; i++) {
		fd = open(path, flags | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(50000);
	}
	return fd < 0 ? -errno : fd;
}

int vs_wipe_store(const char *store)
{
	size_t len = 1024 * 1024;
	void *buf;
	int fd, ret = 0;

	if (posix_memalign(&buf, 4096, len))
		return -ENOMEM;
	memset(buf, 0, len);
	fd = open(store, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		if (pwrite(fd, buf, len, 0) != (ssize_t)len)
			ret = errno ? -errno : -EIO;
		close(fd);
	}
	free(buf);
	return ret;
}

long vs_param_get(const char *name)
{
	char path[128], val[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/volsnap/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(val, sizeof(val), f))
		val[0] = 0;
	fclose(f);
	return val[0] ? strtol(val, NULL, 0) : -1;
}

int vs_param_set(const char *name, long value)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/module/volsnap/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", value) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

#define NULLB_DIR "/sys/kernel/config/nullb"

static int put_attr(const char *name, const char *attr, const char *val)
{
	char path[160];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), NULLB_DIR "/%s/%s", name, attr);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

int vs_nullb_create(const char *name, unsigned int size_mib, char *path,
		    size_t len)
{
	char dir[128], val[32], idx[16] = "";
	FILE *f;
	int i, ret;

	snprintf(dir, sizeof(dir), NULLB_DIR "/%s", name);
	/* The guest's /init mounts configfs before configfs.ko is loaded. */
	if (access(NULLB_DIR, F_OK))
		mount("configfs", "/sys/kernel/config", "configfs", 0, NULL);
	if (access(NULLB_DIR, F_OK))
		return -ENOENT;
	vs_nullb_destroy(name);
	if (mkdir(dir, 0755))
		return -errno;
	snprintf(val, sizeof(val), "%u", size_mib);
	ret = put_attr(name, "size", val);
	if (!ret)
		ret = put_attr(name, "blocksize", "512");
	if (!ret)
		ret = put_attr(name, "memory_backed", "1");
	if (!ret)
		ret = put_attr(name, "discard", "1");
	if (!ret)
		ret = put_attr(name, "power", "1");
	if (ret) {
		vs_nullb_destroy(name);
		return ret;
	}
	snprintf(dir, sizeof(dir), NULLB_DIR "/%s/index", name);
	f = fopen(dir, "r");
	if (!f || !fgets(idx, sizeof(idx), f)) {
		ret = -EIO;
	} else {
		idx[strcspn(idx, "\n")] = 0;
		/* Newer kernels name the disk after the configfs item. */
		ret = -ENOENT;
		for (i = 0; i < 100 && ret; i++) {
			snprintf(path, len, "/dev/%s", name);
			if (access(path, F_OK))
				snprintf(path, len, "/dev/nullb%s", idx);
			if (!access(path, F_OK))
				ret = 0;
			else
				usleep(50000);
		}
	}
	if (f)
		fclose(f);
	if (ret)
		vs_nullb_destroy(name);
	return ret;
}

void vs_nullb_destroy(const char *name)
{
	char dir[128];

	snprintf(dir, sizeof(dir), NULLB_DIR "/%s", name);
	if (access(dir, F_OK))
		return;
	put_attr(name, "power", "0");
	rmdir(dir);
}

u64 vs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

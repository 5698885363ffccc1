/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The volsnap ioctls, wrapped for C tests: devices named by path, results
 * as 0 or -errno. Plus the guest's disks and small helpers the data tests
 * share (device size, store header wipe, image device open).
 */
#ifndef VSOPS_H
#define VSOPS_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/volsnap.h>

#include "vstypes.h"

/* A disk of the test VM: $VS_DISK_<name>, or the default path. */
const char *vs_disk(const char *env, const char *def);
#define vs_disk_origin()	vs_disk("VS_DISK_ORIGIN", "/dev/vda")
#define vs_disk_store()		vs_disk("VS_DISK_STORE", "/dev/vdb")
#define vs_disk_scratch1()	vs_disk("VS_DISK_SCRATCH1", "/dev/vdc")
#define vs_disk_scratch2()	vs_disk("VS_DISK_SCRATCH2", "/dev/vdd")

/* The device number of a block device path; 0 or -errno. */
int vs_devno(const char *path, unsigned int *major, unsigned int *minor);
/* Size of a block device in 512-byte sectors, or 0 on error. */
u64 vs_dev_sectors(const char *path);

int vs_attach(int ctl, const char *origin, const char *store,
	      unsigned int chunk_size);
int vs_detach(int ctl, const char *origin, bool force);
/* Take a snapshot; fills *out (id, image index, ...). */
int vs_create(int ctl, const char *origin, unsigned int flags,
	      struct volsnap_create *out);
int vs_delete(int ctl, const char *origin, unsigned int id, bool force);
/*
 * Status of an origin: *info, and up to *count snapshots into snaps (may be
 * NULL with *count 0); *count is set to the number of live snapshots.
 */
int vs_status(int ctl, const char *origin, struct volsnap_origin_info *info,
	      struct volsnap_snapshot_info *snaps, unsigned int *count);
/* Snapshot info of one id; -ENOENT when the origin has no such snapshot. */
int vs_snap_info(int ctl, const char *origin, unsigned int id,
		 struct volsnap_snapshot_info *out);
/*
 * Force-detach every attached origin (cleanup of a test that failed midway);
 * returns how many were detached, or -errno.
 */
int vs_detach_all(int ctl);

/* "/dev/volsnapN" for an image index. */
void vs_image_path(unsigned int index, char *buf, size_t len);
/* Open an image device, waiting up to 5 s for its node; fd or -errno. */
int vs_image_open(unsigned int index, int flags);

/*
 * Zero the first MiB of a store device, so a test starts from a blank store
 * whatever ran before it. Returns 0 or -errno.
 */
int vs_wipe_store(const char *store);

/* Read a module parameter as an integer; -1 when it cannot be read. */
long vs_param_get(const char *name);
/* Write a module parameter; 0 or -errno. */
int vs_param_set(const char *name, long value);

/*
 * A memory-backed null_blk device made through configfs, 512-byte sectors,
 * with discard that really zeroes (unlike the VM's virtio disks, whose host
 * ignores discards). Fills path with /dev/nullbN. 0 or -errno; -ENOENT when
 * null_blk's configfs is missing.
 */
int vs_nullb_create(const char *name, unsigned int size_mib, char *path,
		    size_t len);
/* Power off and remove the configfs null_blk device name. */
void vs_nullb_destroy(const char *name);

/* Monotonic time in nanoseconds. */
u64 vs_now_ns(void);

#endif

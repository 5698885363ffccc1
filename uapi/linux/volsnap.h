/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * volsnap - copy-on-write snapshots of live block devices
 *
 * The ioctl ABI of the control device, shared by the kernel module and the
 * tools. Rules (Documentation/process/botching-up-ioctls.rst): only fixed
 * size types, naturally aligned, explicit padding, every struct a multiple
 * of 8 bytes with a flags word and reserved space. The kernel rejects
 * unknown flags and non-zero reserved fields with -EINVAL, so both can be
 * given a meaning later without breaking old binaries. Capabilities are
 * discovered with VOLSNAP_IOC_FEATURES, not inferred from version numbers.
 */
#ifndef _UAPI_LINUX_VOLSNAP_H
#define _UAPI_LINUX_VOLSNAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/** VOLSNAP_CTL_NAME - name of the control misc device under /dev */
#define VOLSNAP_CTL_NAME	"volsnap-ctl"

/**
 * VOLSNAP_CTL_MINOR - the control device's minor under the misc major (10)
 *
 * Fixed, from the range devices.txt reserves for local use, so that the
 * node can exist before the module is loaded (kmod static-nodes makes it
 * from the module's devname alias) and opening it loads the module. The
 * module does not load if another driver has this minor.
 */
#define VOLSNAP_CTL_MINOR	250

/** VOLSNAP_VERSION_LEN - size of the version string buffer, with its NUL */
#define VOLSNAP_VERSION_LEN	32

/**
 * struct volsnap_features - what the loaded module can do
 * @flags: in: must be zero.
 * @pad: in: must be zero.
 * @features: out: mask of VOLSNAP_FEAT_* bits this module implements.
 * @version: out: the module's version string, NUL-terminated.
 * @reserved: in: must be zero.
 */
struct volsnap_features {
	__u32 flags;
	__u32 pad;
	__u64 features;
	char version[VOLSNAP_VERSION_LEN];
	__u64 reserved[4];
};

/*
 * Feature bits of &struct volsnap_features.features. A bit is set when the
 * module implements the commands it names.
 */
/** VOLSNAP_FEAT_ATTACH - attach/detach an origin with a block-device store */
#define VOLSNAP_FEAT_ATTACH	(1ULL << 0)
/** VOLSNAP_FEAT_SNAPSHOT - create/delete/list snapshots with image devices */
#define VOLSNAP_FEAT_SNAPSHOT	(1ULL << 1)
/** VOLSNAP_FEAT_FREEZE - explicit freeze/thaw with a hold limit */
#define VOLSNAP_FEAT_FREEZE	(1ULL << 2)
/** VOLSNAP_FEAT_SET - snapshot sets: several origins at one instant */
#define VOLSNAP_FEAT_SET	(1ULL << 3)
/** VOLSNAP_FEAT_DIFF - the chunks changed between two points in time */
#define VOLSNAP_FEAT_DIFF	(1ULL << 4)
/** VOLSNAP_FEAT_REVERT - claim an origin to write a snapshot back to it */
#define VOLSNAP_FEAT_REVERT	(1ULL << 5)
/** VOLSNAP_FEAT_WRITABLE - writable snapshot images */
#define VOLSNAP_FEAT_WRITABLE	(1ULL << 6)
/** VOLSNAP_FEAT_FILE_STORE - attach takes a regular file as the store */
#define VOLSNAP_FEAT_FILE_STORE	(1ULL << 7)
/** VOLSNAP_FEAT_EVENTS - events read from the control device; %VOLSNAP_IOC_ORIGIN_SET */
#define VOLSNAP_FEAT_EVENTS	(1ULL << 8)

/** VOLSNAP_CHUNK_MIN - smallest chunk size in bytes */
#define VOLSNAP_CHUNK_MIN	4096
/** VOLSNAP_CHUNK_MAX - largest chunk size in bytes */
#define VOLSNAP_CHUNK_MAX	(1024 * 1024)
/** VOLSNAP_CHUNK_DEFAULT - chunk size used when attach passes 0 */
#define VOLSNAP_CHUNK_DEFAULT	(64 * 1024)

/**
 * struct volsnap_attach - attach an origin device with a shadow store
 * @flags: in: must be zero.
 * @origin_fd: in: an open file descriptor of the origin block device
 *	(any access mode; the origin may be mounted).
 * @store_fd: in: an open file descriptor of the store: a block device,
 *	which the module opens exclusively for as long as the origin is
 *	attached; or (%VOLSNAP_FEAT_FILE_STORE) a regular file open for
 *	writing, on a filesystem other than the origin's, whose blocks the
 *	filesystem can map and keeps in place (ext2/3/4, xfs). The file
 *	must be fully written (no holes, no fallocated but unwritten
 *	blocks), a multiple of the filesystem block in size, with room for
 *	the header chunk and one data chunk; the chunk size must be at
 *	least the filesystem block. The module pins it as swapon does
 *	(writes, truncation and fallocate by others fail with ETXTBSY until
 *	detach), maps its blocks once, and writes the store straight to the
 *	filesystem's device. Errors for a file: -EISDIR a directory,
 *	-EOPNOTSUPP its filesystem cannot map blocks, -ENODATA a hole or
 *	unwritten blocks, -EXDEV it is on the origin itself, -ETXTBSY it is
 *	swap or another origin's store, -EBADF not open for writing,
 *	-ENOSPC too small, -EINVAL a size or chunk size the filesystem
 *	block does not divide (the kernel log says which).
 * @chunk_size: in: copy-on-write unit in bytes, a power of two from
 *	%VOLSNAP_CHUNK_MIN to %VOLSNAP_CHUNK_MAX, or 0 for
 *	%VOLSNAP_CHUNK_DEFAULT.
 * @reserved: in: must be zero.
 */
struct volsnap_attach {
	__u32 flags;
	__s32 origin_fd;
	__s32 store_fd;
	__u32 chunk_size;
	__u64 reserved[4];
};

/** VOLSNAP_DETACH_FORCE - detach: delete the origin's snapshots first */
#define VOLSNAP_DETACH_FORCE	(1U << 0)

/**
 * struct volsnap_origin_cmd - a command on one attached origin
 * @flags: in: %VOLSNAP_DETACH_FORCE for detach; zero otherwise.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @pad: in: must be zero.
 * @reserved: in: must be zero.
 *
 * Used by %VOLSNAP_IOC_DETACH, %VOLSNAP_IOC_FREEZE and %VOLSNAP_IOC_THAW.
 */
struct volsnap_origin_cmd {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 pad;
	__u64 reserved[2];
};

/** VOLSNAP_CREATE_FROZEN - create: the origin is already frozen, keep it so */
#define VOLSNAP_CREATE_FROZEN	(1U << 0)
/** VOLSNAP_CREATE_WRITABLE - create: the image accepts writes (see %VOLSNAP_IOC_WRITABLE) */
#define VOLSNAP_CREATE_WRITABLE	(1U << 1)

/**
 * struct volsnap_create - take a snapshot of an attached origin
 * @flags: in: zero for one shot (freeze, switch, thaw), or
 *	%VOLSNAP_CREATE_FROZEN to switch inside a freeze made with
 *	%VOLSNAP_IOC_FREEZE (the origin stays frozen until thawed); and
 *	%VOLSNAP_CREATE_WRITABLE for an image that accepts writes.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @id: out: the snapshot's id, unique per origin and increasing.
 * @image_index: out: N of the image device /dev/volsnapN.
 * @image_major: out: the image device's number, major part.
 * @image_minor: out: the image device's number, minor part.
 * @pad: in: must be zero.
 * @hold_ns: out: how long origin writes were held, in nanoseconds (with
 *	%VOLSNAP_CREATE_FROZEN: since the freeze began).
 * @reserved: in: must be zero.
 */
struct volsnap_create {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 id;
	__u32 image_index;
	__u32 image_major;
	__u32 image_minor;
	__u32 pad;
	__u64 hold_ns;
	__u64 reserved[4];
};

/** VOLSNAP_SET_MAX - members of a snapshot set, at most */
#define VOLSNAP_SET_MAX		32

/**
 * struct volsnap_create_set - one snapshot of each of several origins, all
 * at one instant
 * @flags: in: must be zero.
 * @count: in: members, 1 to %VOLSNAP_SET_MAX.
 * @members: in: user pointer to an array of @count &struct volsnap_create,
 *	each with @flags zero and the @major and @minor of an attached
 *	origin, no origin twice; out: each member's snapshot, as
 *	%VOLSNAP_IOC_CREATE fills it (@hold_ns: the set's).
 * @set_id: out: the set's id, never 0, unique while the module is loaded.
 * @hold_ns: out: from the first filesystem freeze to the last thaw, in
 *	nanoseconds: the longest any member's writes were held.
 * @failed: in: must be zero; out: 0 on success; when a member's snapshot
 *	fails (the arguments were accepted), that member's index, or @count
 *	when the error is no one member's.
 * @pad: in: must be zero.
 * @reserved: in: must be zero.
 *
 * Every member's filesystem is frozen and its writes held, the snapshots
 * switch, then all are thawed: all within one hold limit, all or nothing.
 */
struct volsnap_create_set {
	__u32 flags;
	__u32 count;
	__u64 members;
	__u64 set_id;
	__u64 hold_ns;
	__u32 failed;
	__u32 pad;
	__u64 reserved[1];
};

/** VOLSNAP_DELETE_FORCE - delete: even when the image device is open */
#define VOLSNAP_DELETE_FORCE	(1U << 0)

/**
 * struct volsnap_delete - delete one snapshot
 * @flags: in: zero or %VOLSNAP_DELETE_FORCE.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @id: in: the snapshot's id.
 * @reserved: in: must be zero.
 */
struct volsnap_delete {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 id;
	__u64 reserved[2];
};

/** VOLSNAP_ORIGIN_FROZEN - origin state: frozen, writes held */
#define VOLSNAP_ORIGIN_FROZEN		(1U << 0)
/** VOLSNAP_ORIGIN_TIMED_OUT - origin state: the last freeze hit the hold limit */
#define VOLSNAP_ORIGIN_TIMED_OUT	(1U << 1)
/** VOLSNAP_ORIGIN_REVERTING - origin state: claimed by a revert, not finished */
#define VOLSNAP_ORIGIN_REVERTING	(1U << 2)
/** VOLSNAP_ORIGIN_STORE_FILE - origin state: the store is a regular file */
#define VOLSNAP_ORIGIN_STORE_FILE	(1U << 3)

/**
 * struct volsnap_origin_info - state of one attached origin
 * @major: the origin's device number, major part.
 * @minor: the origin's device number, minor part.
 * @store_major: the store's device number, major part (a file store:
 *	the device of its filesystem).
 * @store_minor: the store's device number, minor part.
 * @chunk_size: copy-on-write unit in bytes.
 * @state: VOLSNAP_ORIGIN_* bits.
 * @origin_sectors: size of the origin in 512-byte sectors.
 * @store_chunks: data chunks the store holds in all.
 * @store_used: data chunks in use by preserved copies.
 * @nr_snapshots: live snapshots of this origin.
 * @threshold: the store fill level, in percent of @store_chunks, at which
 *	a %VOLSNAP_EVENT_THRESHOLD event is sent; 0 when none is (see
 *	%VOLSNAP_IOC_ORIGIN_SET). Zero from modules without
 *	%VOLSNAP_FEAT_EVENTS (it was padding).
 * @revert_id: with %VOLSNAP_ORIGIN_REVERTING, the snapshot being written
 *	back to the origin; zero otherwise.
 * @pad2: zero.
 * @store_ino: with %VOLSNAP_ORIGIN_STORE_FILE, the store file's inode
 *	number on that filesystem; zero otherwise.
 */
struct volsnap_origin_info {
	__u32 major;
	__u32 minor;
	__u32 store_major;
	__u32 store_minor;
	__u32 chunk_size;
	__u32 state;
	__u64 origin_sectors;
	__u64 store_chunks;
	__u64 store_used;
	__u32 nr_snapshots;
	__u32 threshold;
	__u32 revert_id;
	__u32 pad2;
	__u64 store_ino;
};

/** VOLSNAP_SNAP_INVALID - snapshot state: its image can no longer be read */
#define VOLSNAP_SNAP_INVALID	(1U << 0)
/** VOLSNAP_SNAP_WRITABLE - snapshot state: its image accepts writes */
#define VOLSNAP_SNAP_WRITABLE	(1U << 1)

/**
 * struct volsnap_snapshot_info - state of one snapshot
 * @id: the snapshot's id.
 * @image_index: N of /dev/volsnapN.
 * @image_major: the image device's number, major part.
 * @image_minor: the image device's number, minor part.
 * @state: VOLSNAP_SNAP_* bits.
 * @error: why the snapshot is invalid, a negative errno: -ENOSPC the
 *	store was full, -EIO a read of the origin or a write to the store
 *	failed while copying; zero while valid.
 * @created_ns: creation time, CLOCK_REALTIME in nanoseconds.
 * @chunks: chunks changed on the origin since the snapshot, whose
 *	content the snapshot reads from the store.
 * @set_id: the snapshot set it was created in, 0 if none.
 * @alone_chunks: of @chunks, those no other valid snapshot of the origin
 *	reads: the store chunks deleting this snapshot frees (0 while
 *	invalid).
 */
struct volsnap_snapshot_info {
	__u32 id;
	__u32 image_index;
	__u32 image_major;
	__u32 image_minor;
	__u32 state;
	__s32 error;
	__u64 created_ns;
	__u64 chunks;
	__u64 set_id;
	__u64 alone_chunks;
};

/**
 * struct volsnap_list - list the attached origins
 * @flags: in: must be zero.
 * @count: in: entries the array at @origins holds; out: origins attached
 *	(may be more than were copied: call again with a larger array).
 * @origins: in: user pointer to an array of &struct volsnap_origin_info.
 * @reserved: in: must be zero.
 */
struct volsnap_list {
	__u32 flags;
	__u32 count;
	__u64 origins;
	__u64 reserved[2];
};

/**
 * struct volsnap_status - one origin and its snapshots
 * @flags: in: must be zero.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @count: in: entries the array at @snapshots holds; out: live snapshots
 *	(may be more than were copied), in increasing id order.
 * @snapshots: in: user pointer to an array of &struct volsnap_snapshot_info.
 * @origin: out: the origin's state.
 * @reserved: in: must be zero.
 */
struct volsnap_status {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 count;
	__u64 snapshots;
	struct volsnap_origin_info origin;
	__u64 reserved[2];
};

/** VOLSNAP_DIFF_NOW - diff: the later point is the live origin, not a snapshot */
#define VOLSNAP_DIFF_NOW	(1U << 0)

/** VOLSNAP_DIFF_MAX - most extents one %VOLSNAP_IOC_DIFF call returns */
#define VOLSNAP_DIFF_MAX	4096

/**
 * struct volsnap_extent - a run of adjacent chunks
 * @chunk: the first chunk (byte offset: @chunk times the chunk size).
 * @count: chunks in the run.
 */
struct volsnap_extent {
	__u64 chunk;
	__u64 count;
};

/**
 * struct volsnap_diff - the chunks that may differ between two points in time
 * @flags: in: zero, or %VOLSNAP_DIFF_NOW to compare with the live origin.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @from: in: the earlier snapshot's id.
 * @to: in: the later snapshot's id, newer than @from; zero with
 *	%VOLSNAP_DIFF_NOW.
 * @count: in: entries the array at @extents holds, 1 to
 *	%VOLSNAP_DIFF_MAX; out: entries filled, in ascending order. Fewer
 *	than asked: the end of the origin was reached.
 * @start: in: the first chunk to look at; out: the chunk after the last
 *	one looked at, where the next call starts. Runs are not merged
 *	across calls.
 * @extents: in: user pointer to an array of &struct volsnap_extent.
 * @chunk_size: out: the origin's chunk size in bytes.
 * @pad: in: must be zero.
 * @from_sectors: out: the size of the earlier point, 512-byte sectors.
 * @to_sectors: out: the size of the later point. Extents cover only the
 *	size both points have; where the later point is larger, all it has
 *	beyond the earlier one's size differs.
 * @reserved: in: must be zero.
 *
 * Computed from the chunk map, without reading data: a chunk is listed when
 * it was written between the two points. Every byte that differs lies in a
 * listed chunk; a listed chunk may hold the same data again (written back).
 */
struct volsnap_diff {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 from;
	__u32 to;
	__u32 count;
	__u64 start;
	__u64 extents;
	__u32 chunk_size;
	__u32 pad;
	__u64 from_sectors;
	__u64 to_sectors;
	__u64 reserved[2];
};

/** VOLSNAP_REVERT_END - revert: the origin equals the snapshot; release it */
#define VOLSNAP_REVERT_END	(1U << 0)

/**
 * struct volsnap_revert - claim an origin to write a snapshot back to it
 * @flags: in: zero to begin (or resume) a revert, %VOLSNAP_REVERT_END to
 *	end it.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @id: in: the snapshot written back.
 * @reserved: in: must be zero.
 */
struct volsnap_revert {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 id;
	__u64 reserved[2];
};

/**
 * struct volsnap_writable - make a snapshot's image accept writes
 * @flags: in: must be zero.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @id: in: the snapshot's id.
 * @reserved: in: must be zero.
 */
struct volsnap_writable {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 id;
	__u64 reserved[2];
};

/** VOLSNAP_THRESHOLD_DEFAULT - store fill threshold of a new origin, percent */
#define VOLSNAP_THRESHOLD_DEFAULT	80

/** VOLSNAP_ORIGIN_SET_THRESHOLD - set: @threshold is given */
#define VOLSNAP_ORIGIN_SET_THRESHOLD	(1U << 0)

/**
 * struct volsnap_origin_set - change settings of an attached origin
 * @flags: in: which fields to apply: %VOLSNAP_ORIGIN_SET_THRESHOLD; at
 *	least one.
 * @major: in: the origin's device number, major part.
 * @minor: in: the origin's device number, minor part.
 * @threshold: in, with %VOLSNAP_ORIGIN_SET_THRESHOLD: the store fill level
 *	in percent, 1 to 100, at which a %VOLSNAP_EVENT_THRESHOLD event is sent,
 *	or 0 for none. Otherwise must be zero.
 * @reserved: in: must be zero.
 */
struct volsnap_origin_set {
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 threshold;
	__u64 reserved[2];
};

/**
 * enum volsnap_event_type - what a &struct volsnap_event reports
 * @VOLSNAP_EVENT_LOST: this reader fell more than %VOLSNAP_EVENT_RING
 *	events behind and missed some: @count says how many, @seq is the
 *	first one missed. Only this reader missed them; it goes on with the
 *	oldest event still kept.
 * @VOLSNAP_EVENT_INVALID: snapshot @snapshot_id (image /dev/volsnap
 *	@image_index) of the origin became invalid; @error says why:
 *	-ENOSPC the store was full, -EIO a copy failed (origin read or
 *	store write), -ERANGE the origin shrank below the image's size,
 *	-EXDEV a whole-disk origin gained partitions, -ENODEV the origin or
 *	its store disappeared (the snapshot is deleted with the detach).
 * @VOLSNAP_EVENT_THRESHOLD: the origin's store filled up to its threshold
 *	(@threshold percent): @count chunks of @total are in use. Sent once
 *	when usage rises to the threshold, again only after it fell below.
 * @VOLSNAP_EVENT_HOLD_EXPIRED: writes of the origin were held (frozen)
 *	for the hold limit, @count milliseconds: the kernel thawed it and
 *	the snapshot being taken failed (@snapshot_id is 0: none was made).
 * @VOLSNAP_EVENT_STORE_GROWN: reserved for a store file that grew; not
 *	sent by this version.
 */
enum volsnap_event_type {
	VOLSNAP_EVENT_LOST = 1,
	VOLSNAP_EVENT_INVALID = 2,
	VOLSNAP_EVENT_THRESHOLD = 3,
	VOLSNAP_EVENT_HOLD_EXPIRED = 4,
	VOLSNAP_EVENT_STORE_GROWN = 5,
};

/**
 * VOLSNAP_EVENT_RING - events the module keeps for readers that lag
 *
 * A reader more than this many events behind gets one
 * %VOLSNAP_EVENT_LOST record in place of those it missed.
 */
#define VOLSNAP_EVENT_RING	256

/**
 * struct volsnap_event - one event, as read() from the control device
 * @type: a &enum volsnap_event_type.
 * @flags: zero; bits may be defined later.
 * @seq: sequence number, increasing by one per event since the module
 *	was loaded (all origins share it), starting at 1.
 * @time_ns: when it happened, CLOCK_REALTIME in nanoseconds.
 * @major: the origin's device number, major part (zero for LOST).
 * @minor: the origin's device number, minor part.
 * @snapshot_id: INVALID: the snapshot's id; zero otherwise.
 * @error: INVALID: why, a negative errno; zero otherwise.
 * @count: THRESHOLD: store chunks in use; HOLD_EXPIRED: the hold limit in
 *	ms; LOST: events missed.
 * @total: THRESHOLD: store chunks in all; zero otherwise.
 * @image_index: INVALID: N of the image device /dev/volsnapN.
 * @threshold: THRESHOLD: the origin's threshold, percent.
 * @reserved: zero.
 *
 * Every file open on the control device gets every event raised from the
 * moment it was opened, in @seq order, as whole records: read() with a
 * buffer of at least one record returns as many as fit and are pending,
 * and blocks while none is (-EAGAIN with O_NONBLOCK); poll() reports
 * EPOLLIN while one is pending. Files used only for ioctls are not
 * affected: the events wait in a ring that every reader shares and
 * overwrite the oldest. Reading needs what the ioctls need: a file opened
 * by a caller with CAP_SYS_ADMIN. The same events are sent as uevents
 * (KOBJ_CHANGE) on the origin's block device, see Documentation/volsnap.rst.
 */
struct volsnap_event {
	__u32 type;
	__u32 flags;
	__u64 seq;
	__u64 time_ns;
	__u32 major;
	__u32 minor;
	__u32 snapshot_id;
	__s32 error;
	__u64 count;
	__u64 total;
	__u32 image_index;
	__u32 threshold;
	__u64 reserved[2];
};

/* The ioctl magic; see Documentation/userspace-api/ioctl/ioctl-number.rst */
#define VOLSNAP_IOC_MAGIC	0xB7

/**
 * define VOLSNAP_IOC_FEATURES - report version and features
 *
 * Takes a &struct volsnap_features. Every command on the control device
 * needs CAP_SYS_ADMIN (-EPERM without it).
 */
#define VOLSNAP_IOC_FEATURES	_IOWR(VOLSNAP_IOC_MAGIC, 0x00, struct volsnap_features)

/**
 * define VOLSNAP_IOC_ATTACH - start tracking an origin
 *
 * Takes a &struct volsnap_attach. Errors: -EBUSY origin already attached,
 * store in use or carrying a live header of another origin; -EINVAL store
 * is or overlaps the origin, has a larger logical block size than the
 * origin, bad chunk size, zoned or empty origin; -EXDEV the origin is a
 * whole disk with partitions (attach a partition); -ELOOP the store is
 * stacked on the origin or the origin on the store (a dm or md device
 * mapped onto the other, a loop device whose backing file lives on it),
 * so the store's writes would change the origin; -EBADF, -ENOTBLK an fd
 * is not an open block device; -ENOSPC store too small for its header and
 * one chunk; -EROFS the store cannot be opened for writing (an image device).
 */
#define VOLSNAP_IOC_ATTACH	_IOW(VOLSNAP_IOC_MAGIC, 0x01, struct volsnap_attach)

/**
 * define VOLSNAP_IOC_DETACH - stop tracking an origin
 *
 * Takes a &struct volsnap_origin_cmd. Errors: -ENODEV not attached;
 * -EBUSY snapshots exist (without %VOLSNAP_DETACH_FORCE, which deletes
 * them, even those whose image is open).
 */
#define VOLSNAP_IOC_DETACH	_IOW(VOLSNAP_IOC_MAGIC, 0x02, struct volsnap_origin_cmd)

/**
 * define VOLSNAP_IOC_CREATE - take a snapshot
 *
 * Takes a &struct volsnap_create. Errors: -ENODEV not attached; -EMLINK
 * the snapshot limit is reached; -ETIMEDOUT the freeze hit the hold limit
 * (the origin was thawed; with %VOLSNAP_CREATE_FROZEN, an expiry before the
 * call is reported before -EMLINK and -EXDEV); -EINVAL
 * %VOLSNAP_CREATE_FROZEN without a freeze;
 * -EBUSY frozen, and %VOLSNAP_CREATE_FROZEN not given; -EXDEV the origin
 * is a whole disk that gained partitions; -EFAULT the argument cannot be
 * written back (checked before the snapshot is taken).
 */
#define VOLSNAP_IOC_CREATE	_IOWR(VOLSNAP_IOC_MAGIC, 0x03, struct volsnap_create)

/**
 * define VOLSNAP_IOC_DELETE - delete a snapshot; copies no data
 *
 * Takes a &struct volsnap_delete. Errors: -ENODEV origin not attached;
 * -ENOENT no such snapshot; -EBUSY its image is open (without
 * %VOLSNAP_DELETE_FORCE).
 */
#define VOLSNAP_IOC_DELETE	_IOW(VOLSNAP_IOC_MAGIC, 0x04, struct volsnap_delete)

/**
 * define VOLSNAP_IOC_FREEZE - freeze an origin
 *
 * Takes a &struct volsnap_origin_cmd. Freezes the filesystem mounted on the
 * origin, if any, and holds writes at the filter. The freeze belongs to the file it was
 * made through: closing that file thaws. A watchdog thaws after the hold
 * limit (module parameter hold_limit_ms) and fails the pending snapshot.
 * Errors: -ENODEV not attached; -EBUSY already frozen; -ETIMEDOUT writes
 * did not drain within the hold limit; the filesystem freeze's errors.
 */
#define VOLSNAP_IOC_FREEZE	_IOW(VOLSNAP_IOC_MAGIC, 0x05, struct volsnap_origin_cmd)

/**
 * define VOLSNAP_IOC_THAW - thaw a frozen origin
 *
 * Takes a &struct volsnap_origin_cmd. Errors: -ENODEV not attached;
 * -EINVAL not frozen; -ETIMEDOUT the watchdog already thawed it.
 */
#define VOLSNAP_IOC_THAW	_IOW(VOLSNAP_IOC_MAGIC, 0x06, struct volsnap_origin_cmd)

/**
 * define VOLSNAP_IOC_LIST - list attached origins
 *
 * Takes a &struct volsnap_list.
 */
#define VOLSNAP_IOC_LIST	_IOWR(VOLSNAP_IOC_MAGIC, 0x07, struct volsnap_list)

/**
 * define VOLSNAP_IOC_STATUS - one origin's state and snapshots
 *
 * Takes a &struct volsnap_status. Errors: -ENODEV not attached.
 */
#define VOLSNAP_IOC_STATUS	_IOWR(VOLSNAP_IOC_MAGIC, 0x08, struct volsnap_status)

/**
 * define VOLSNAP_IOC_CREATE_SET - snapshot several origins at one instant
 *
 * Takes a &struct volsnap_create_set. Errors: those of
 * %VOLSNAP_IOC_CREATE for any member (then no member has a new snapshot
 * and every filesystem is thawed), -EINVAL an origin named twice or a
 * count out of range.
 */
#define VOLSNAP_IOC_CREATE_SET	_IOWR(VOLSNAP_IOC_MAGIC, 0x09, struct volsnap_create_set)

/**
 * define VOLSNAP_IOC_DIFF - the chunks changed between two points in time
 *
 * Takes a &struct volsnap_diff. Errors: -ENODEV not attached; -ENOENT no
 * such snapshot; -ESTALE a snapshot is invalid (what changed is not known);
 * -EINVAL @to not newer than @from, @count out of range, @start past the
 * origin's end; -EMEDIUMTYPE a snapshot is writable (what its image's own
 * writes changed is not in the list).
 */
#define VOLSNAP_IOC_DIFF	_IOWR(VOLSNAP_IOC_MAGIC, 0x0a, struct volsnap_diff)

/**
 * define VOLSNAP_IOC_REVERT - claim an origin to write a snapshot back
 *
 * Takes a &struct volsnap_revert. Beginning claims the origin exclusively
 * (no mount, no other exclusive open) and marks it reverting: until the
 * revert ends, the origin refuses snapshots, freezes and a detach without
 * %VOLSNAP_DETACH_FORCE, and the snapshot refuses deletion. The caller
 * then writes the snapshot's changed chunks to the origin through the
 * origin device (copy-on-write keeps the other snapshots exact) and ends
 * the revert. A caller killed halfway leaves the mark: beginning again
 * with the same snapshot resumes. Errors: -ENODEV not attached; -ENOENT no
 * such snapshot; -ESTALE the snapshot is invalid; -EMEDIUMTYPE it is
 * writable; -EBUSY the origin is
 * mounted, open by another program, frozen, or reverting to another
 * snapshot; -EINVAL ending a revert that is not in progress.
 */
#define VOLSNAP_IOC_REVERT	_IOW(VOLSNAP_IOC_MAGIC, 0x0b, struct volsnap_revert)

/**
 * define VOLSNAP_IOC_WRITABLE - make a snapshot's image accept writes
 *
 * Takes a &struct volsnap_writable. From then on the image device accepts
 * writes (it has no volatile cache: a write is done when the store has
 * it). Each chunk first written through the image gets a
 * store chunk of its own, filled with what the image read there, and the
 * image reads it from then on: the origin and the other snapshots never
 * see these writes. A write that finds the store full fails with -ENOSPC;
 * origin writes never fail for it. Such a snapshot has no changed-chunk
 * list (%VOLSNAP_IOC_DIFF fails with -EMEDIUMTYPE) and cannot be reverted
 * to. There is no way back to read-only, and the image cannot be a store.
 * Errors: -ENODEV not attached; -ENOENT no such snapshot; -ESTALE the
 * snapshot is invalid; -EBUSY a revert writes it back; -ENOMEM.
 */
#define VOLSNAP_IOC_WRITABLE	_IOW(VOLSNAP_IOC_MAGIC, 0x0c, struct volsnap_writable)

/**
 * define VOLSNAP_IOC_ORIGIN_SET - change settings of an attached origin
 *
 * Takes a &struct volsnap_origin_set. A threshold set at or below the
 * store's current use sends its event at once. Errors: -ENODEV not
 * attached; -EINVAL no or unknown flags, a threshold above 100.
 */
#define VOLSNAP_IOC_ORIGIN_SET		_IOW(VOLSNAP_IOC_MAGIC, 0x0d, struct volsnap_origin_set)

#endif /* _UAPI_LINUX_VOLSNAP_H */

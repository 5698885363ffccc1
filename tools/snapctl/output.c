// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - the tables of 'list' and 'status'
 *
 * Both commands print through this one path, libsmartcols, which gives
 * the -o/-n/-r/-J behaviour of lsblk and losetup: columns chosen by name
 * (+COL appends to the defaults), raw and header-less tables, JSON with
 * typed values (numbers as numbers, booleans as booleans, empty as null).
 * A command is a struct listing: the table's name (its JSON array), the
 * columns it may show and those it shows by default.
 *
 * Rows are origins (status) or snapshots (list); every origin column is
 * also a column of the snapshot rows, filled from the snapshot's origin,
 * and list shows an origin without snapshots as one row whose snapshot
 * columns are empty.
 */
#define _GNU_SOURCE	/* nftw()'s FTW_ACTIONRETVAL, asprintf() */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "snapctl.h"

struct colinfo {
	const char *name;
	double whint;
	int flags;
	int json_type;
	bool snapshot;		/* a column of snapshot rows only */
	const char *help;
};

static const struct colinfo infos[] = {
	[COL_ORIGIN] = { "ORIGIN", 0.1, 0, SCOLS_JSON_STRING, false,
			 "the origin device" },
	[COL_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		       "size of the origin" },
	[COL_FSTYPE] = { "FSTYPE", 0.1, 0, SCOLS_JSON_STRING, false,
			 "filesystem type on the origin" },
	[COL_MOUNTPOINT] = { "MOUNTPOINT", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, false,
			     "where the origin is mounted" },
	[COL_STORE] = { "STORE", 0.1, 0, SCOLS_JSON_STRING, false,
			"the origin's store: a device, or a file (its path, or its\n"
			"filesystem's device and inode number)" },
	[COL_CHUNK_SIZE] = { "CHUNK_SIZE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			     "copy-on-write unit" },
	[COL_STORE_SIZE] = { "STORE_SIZE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			     "room for data on the store" },
	[COL_STORE_USED] = { "STORE_USED", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			     "store space in use by preserved data" },
	[COL_FILL] = { "FILL", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		       "store use in percent (a bar on a terminal)" },
	[COL_FROZEN] = { "FROZEN", 1, SCOLS_FL_RIGHT, SCOLS_JSON_BOOLEAN, false,
			 "1 while frozen by 'snapctl freeze'" },
	[COL_TIMED_OUT] = { "TIMED_OUT", 1, SCOLS_FL_RIGHT, SCOLS_JSON_BOOLEAN, false,
			    "1 when the last freeze hit the hold limit" },
	[COL_REVERTING] = { "REVERTING", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			    "the snapshot an unfinished revert writes back (none: empty)" },
	[COL_NR_SNAPS] = { "NR_SNAPS", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			   "number of snapshots of the origin" },
	[COL_THRESHOLD] = { "THRESHOLD", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
			    "store fill in percent that sends a threshold event (none: empty)" },
	[COL_ID] = { "ID", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
		     "snapshot id, per origin" },
	[COL_SET] = { "SET", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
		      "the snapshot set it was taken in (none: empty, null in JSON)" },
	[COL_DEVICE] = { "DEVICE", 0.1, 0, SCOLS_JSON_STRING, true,
			 "the snapshot's read-only image device" },
	[COL_CREATED] = { "CREATED", 19, 0, SCOLS_JSON_STRING, true,
			  "creation time (local; ISO 8601 UTC in JSON)" },
	[COL_STATE] = { "STATE", 7, 0, SCOLS_JSON_STRING, true,
			"valid, or invalid when its image can no longer be read" },
	[COL_WRITABLE] = { "WRITABLE", 1, SCOLS_FL_RIGHT, SCOLS_JSON_BOOLEAN, true,
			   "1 when its image accepts writes (snapctl writable)" },
	[COL_REASON] = { "REASON", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, true,
			 "why it is invalid (store full, I/O error while copying, ...)" },
	[COL_CHUNKS] = { "CHUNKS", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
			 "chunks it reads from the store" },
	[COL_ALONE] = { "ALONE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
			"store space it alone holds: what deleting it frees" },
	[COL_SHARED] = { "SHARED", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
			 "store space it reads that other snapshots read too" },
};

/* The columns a listing shows, in order. */
static int columns[4 * ARRAY_SIZE(infos)];
static size_t ncolumns;

static bool allowed(const struct listing *l, size_t col)
{
	return l->snapshots || !infos[col].snapshot;
}

static int column_by_name(const struct listing *l, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(infos); i++)
		if (allowed(l, i) && strlen(infos[i].name) == len &&
		    !strncasecmp(infos[i].name, name, len))
			return i;
	return -1;
}

static void valid_columns(const struct listing *l, FILE *out)
{
	bool first = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(infos); i++) {
		if (!allowed(l, i))
			continue;
		fprintf(out, "%s%s", first ? "" : ", ", infos[i].name);
		first = false;
	}
}

/**
 * output_set_columns() - choose the table columns (-o)
 * @l: the listing.
 * @list: column names separated by commas, any case; with a leading '+',
 *	they are added to the default columns, as lsblk does.
 *
 * Return: 0, or -1 after a message naming the unknown column and listing
 * the valid ones.
 */
int output_set_columns(const struct listing *l, const char *list)
{
	const char *p = list;

	ncolumns = 0;
	if (*p == '+') {
		for (; ncolumns < l->ndefaults; ncolumns++)
			columns[ncolumns] = l->defaults[ncolumns];
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		int col = column_by_name(l, p, len);

		if (col < 0) {
			fprintf(stderr, "%s: %s: unknown column '%.*s'; the columns are: ",
				prog, l->command, (int)len, p);
			valid_columns(l, stderr);
			fputc('\n', stderr);
			return -1;
		}
		if (ncolumns == ARRAY_SIZE(columns)) {
			fprintf(stderr, "%s: %s: too many columns in '%s'\n",
				prog, l->command, list);
			return -1;
		}
		columns[ncolumns++] = col;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!ncolumns) {
		fprintf(stderr, "%s: %s: no columns in -o '%s'\n", prog,
			l->command, list);
		return -1;
	}
	return 0;
}

/* The "Columns:" part of a listing command's help. */
void output_columns_help(const struct listing *l, FILE *out)
{
	size_t i, j;

	fputs("\nColumns (* = shown by default; -o +COL adds to those):\n", out);
	for (i = 0; i < ARRAY_SIZE(infos); i++) {
		bool def = false;

		if (!allowed(l, i))
			continue;
		for (j = 0; j < l->ndefaults; j++)
			def |= l->defaults[j] == (int)i;
		fprintf(out, "  %-11s%c %s\n", infos[i].name, def ? '*' : ' ',
			infos[i].help);
	}
}

/* Whether a column needs the origin's filesystem probed or mounts read. */
bool output_has_column(int col)
{
	size_t i;

	for (i = 0; i < ncolumns; i++)
		if (columns[i] == col)
			return true;
	return false;
}

/* An empty table with the chosen columns and output mode. */
struct libscols_table *output_new(const struct listing *l)
{
	struct libscols_table *tb = scols_new_table();
	size_t i;

	if (!tb || scols_table_set_name(tb, l->table))
		oom();
	/* Each sets the output format: -J wins over -r. */
	scols_table_enable_raw(tb, opts.raw && !opts.json);
	scols_table_enable_json(tb, opts.json);
	scols_table_enable_noheadings(tb, opts.noheadings);
	if (!ncolumns)
		for (; ncolumns < l->ndefaults; ncolumns++)
			columns[ncolumns] = l->defaults[ncolumns];
	for (i = 0; i < ncolumns; i++) {
		const struct colinfo *ci = &infos[columns[i]];
		struct libscols_column *cl;

		cl = scols_table_new_column(tb, ci->name, ci->whint, ci->flags);
		if (!cl || scols_column_set_json_type(cl, ci->json_type))
			oom();
	}
	return tb;
}

/* Why a snapshot is invalid, or "" while it is valid. */
const char *snap_reason(const struct volsnap_snapshot_info *si)
{
	switch (-si->error) {
	case 0:
		return "";
	case ENOSPC:
		return "store full";
	case EIO:
		return "I/O error while copying";
	case ENODATA:	/* BLK_STS_MEDIUM: a sector that cannot be read */
		return "medium error while copying";
	case ERANGE:
		return "origin shrank";
	case EXDEV:
		return "partitions added";
	case ENODEV:
		return "origin or store removed";
	default:
		return strerror(-si->error);
	}
}

/* A size: bytes with --bytes and in JSON, else as lsblk prints it. */
static void size_cell(unsigned long long bytes, char *buf, size_t len)
{
	if (opts.bytes || opts.json)
		snprintf(buf, len, "%llu", bytes);
	else
		format_size_short(bytes, buf, len);
}

/*
 * The store's fill: "[####------]  40.2%" on a terminal, else the percent
 * as a plain number (also with --raw, --json and --bytes).
 */
static void fill_cell(const struct volsnap_origin_info *oi, char *buf, size_t len)
{
	unsigned long long total = oi->store_chunks, used = oi->store_used;
	double pct = total ? 100.0 * used / total : 0.0;
	char bar[11];
	unsigned int i, n;

	if (opts.json || opts.raw || opts.bytes || !isatty(STDOUT_FILENO)) {
		snprintf(buf, len, "%.1f", pct);
		return;
	}
	n = total ? (used * 10 + total / 2) / total : 0;
	for (i = 0; i < 10; i++)
		bar[i] = i < n ? '#' : '-';
	bar[10] = '\0';
	snprintf(buf, len, "[%s] %5.1f%%", bar, pct);
}

/**
 * output_add() - add a row
 * @tb: the table.
 * @o: the origin of the row.
 * @si: the snapshot of the row, or %NULL for a row of @o alone (its
 *	snapshot columns are left empty).
 */
void output_add(struct libscols_table *tb, const struct origin_row *o,
		const struct volsnap_snapshot_info *si)
{
	const struct volsnap_origin_info *oi = &o->info;
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[64];
	size_t i;

	if (!ln)
		oom();
	for (i = 0; i < ncolumns; i++) {
		const char *data = buf;

		buf[0] = '\0';
		if (infos[columns[i]].snapshot && !si) {
			if (scols_line_set_data(ln, i, ""))
				oom();
			continue;
		}
		switch (columns[i]) {
		case COL_ORIGIN:
			data = o->name;
			break;
		case COL_SIZE:
			size_cell(oi->origin_sectors * 512, buf, sizeof(buf));
			break;
		case COL_FSTYPE:
			data = o->fstype ? o->fstype : "";
			break;
		case COL_MOUNTPOINT:
			data = o->mountpoint ? o->mountpoint : "";
			break;
		case COL_STORE:
			data = o->store;
			break;
		case COL_CHUNK_SIZE:
			size_cell(oi->chunk_size, buf, sizeof(buf));
			break;
		case COL_STORE_SIZE:
			size_cell(oi->store_chunks * oi->chunk_size, buf, sizeof(buf));
			break;
		case COL_STORE_USED:
			size_cell(oi->store_used * oi->chunk_size, buf, sizeof(buf));
			break;
		case COL_FILL:
			fill_cell(oi, buf, sizeof(buf));
			break;
		case COL_FROZEN:
			data = oi->state & VOLSNAP_ORIGIN_FROZEN ? "1" : "0";
			break;
		case COL_TIMED_OUT:
			data = oi->state & VOLSNAP_ORIGIN_TIMED_OUT ? "1" : "0";
			break;
		case COL_REVERTING:
			if (oi->state & VOLSNAP_ORIGIN_REVERTING)
				snprintf(buf, sizeof(buf), "%u", oi->revert_id);
			break;
		case COL_NR_SNAPS:
			snprintf(buf, sizeof(buf), "%u", oi->nr_snapshots);
			break;
		case COL_THRESHOLD:
			if (oi->threshold)
				snprintf(buf, sizeof(buf), "%u", oi->threshold);
			break;
		case COL_ID:
			snprintf(buf, sizeof(buf), "%u", si->id);
			break;
		case COL_SET:
			if (si->set_id)
				snprintf(buf, sizeof(buf), "%llu",
					 (unsigned long long)si->set_id);
			break;
		case COL_DEVICE:
			snprintf(buf, sizeof(buf), "/dev/volsnap%u", si->image_index);
			break;
		case COL_CREATED:
			format_time(si->created_ns, opts.json, buf, sizeof(buf));
			break;
		case COL_STATE:
			data = si->state & VOLSNAP_SNAP_INVALID ? "invalid" : "valid";
			break;
		case COL_WRITABLE:
			data = si->state & VOLSNAP_SNAP_WRITABLE ? "1" : "0";
			break;
		case COL_REASON:
			data = snap_reason(si);
			break;
		case COL_ALONE:		/* empty for an invalid snapshot */
			if (!(si->state & VOLSNAP_SNAP_INVALID))
				size_cell(si->alone_chunks * oi->chunk_size,
					  buf, sizeof(buf));
			break;
		case COL_SHARED:
			if (!(si->state & VOLSNAP_SNAP_INVALID))
				size_cell((si->chunks - si->alone_chunks) *
					  oi->chunk_size, buf, sizeof(buf));
			break;
		case COL_CHUNKS:
			snprintf(buf, sizeof(buf), "%llu",
				 (unsigned long long)si->chunks);
			break;
		}
		if (scols_line_set_data(ln, i, data))
			oom();
	}
}

/*
 * Print the table to stdout and free it. A table without rows prints
 * nothing as text (as losetup and lsblk) and an empty array as JSON.
 */
void output_print(struct libscols_table *tb)
{
	scols_print_table(tb);
	scols_unref_table(tb);
}

/* A JSON string literal, with the escapes JSON requires. */
void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* What store_file_path() looks for, and how far. */
static struct {
	dev_t dev;
	ino_t ino;
	unsigned int visited;
	char *found;
} want_file;

#define STORE_FILE_DEPTH	4	/* directories below the mount point */
#define STORE_FILE_VISITS	20000	/* entries looked at, at most */

static int store_file_visit(const char *path, const struct stat *st, int type,
			    struct FTW *ftw)
{
	if (type == FTW_F && st->st_dev == want_file.dev &&
	    st->st_ino == want_file.ino) {
		want_file.found = xstrdup(path);
		return FTW_STOP;
	}
	if (++want_file.visited >= STORE_FILE_VISITS)
		return FTW_STOP;
	if (type == FTW_D && ftw->level >= STORE_FILE_DEPTH)
		return FTW_SKIP_SUBTREE;
	return FTW_CONTINUE;
}

/*
 * The path of a store file: the module reports its filesystem's device
 * and its inode number; look for it near the top of where that
 * filesystem is mounted (a bounded search), else "DEV inode N".
 */
static char *store_file_path(dev_t dev, unsigned long long ino)
{
	char *mnt = dev_mountpoint(dev), *name, *ret;

	want_file.dev = dev;
	want_file.ino = ino;
	want_file.visited = 0;
	want_file.found = NULL;
	if (mnt)
		nftw(mnt, store_file_visit, 16,
		     FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
	free(mnt);
	if (want_file.found)
		return want_file.found;
	name = dev_name(dev);
	if (asprintf(&ret, "%s inode %llu", name, ino) < 0)
		oom();
	free(name);
	return ret;
}

/* Fill @o for the origin @devno; probes only what the columns show. */
void origin_row_init(struct origin_row *o, dev_t devno,
		     const struct volsnap_origin_info *info)
{
	o->info = *info;
	o->name = dev_name(devno);
	if ((info->state & VOLSNAP_ORIGIN_STORE_FILE) && output_has_column(COL_STORE))
		o->store = store_file_path(makedev(info->store_major,
						   info->store_minor),
					   info->store_ino);
	else
		o->store = dev_name(makedev(info->store_major, info->store_minor));
	o->fstype = output_has_column(COL_FSTYPE) ? dev_fstype(o->name) : NULL;
	o->mountpoint = output_has_column(COL_MOUNTPOINT) ?
			dev_mountpoint(devno) : NULL;
}

void origin_row_free(struct origin_row *o)
{
	free(o->name);
	free(o->store);
	free(o->fstype);
	free(o->mountpoint);
}

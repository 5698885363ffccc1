// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - the snapshot table and JSON
 *
 * 'list' and 'status' print snapshots through libsmartcols, which gives
 * the -o/-n/-r/-J behaviour of lsblk and losetup: columns chosen by name,
 * raw and header-less tables, and JSON with typed values (numbers as
 * numbers, empty strings as null).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols.h>

#include "snapctl.h"

enum {
	COL_ORIGIN,
	COL_ID,
	COL_DEVICE,
	COL_CREATED,
	COL_STATE,
	COL_REASON,
	COL_CHUNKS,
};

struct colinfo {
	const char *name;
	double whint;
	int flags;
	int json_type;
	const char *help;
};

static const struct colinfo infos[] = {
	[COL_ORIGIN] = { "ORIGIN", 0.1, 0, SCOLS_JSON_STRING,
			 "the snapshotted device" },
	[COL_ID] = { "ID", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		     "snapshot id, per origin" },
	[COL_DEVICE] = { "DEVICE", 0.1, 0, SCOLS_JSON_STRING,
			 "the snapshot's read-only image device" },
	[COL_CREATED] = { "CREATED", 19, 0, SCOLS_JSON_STRING,
			  "creation time (local; ISO 8601 UTC in JSON)" },
	[COL_STATE] = { "STATE", 7, 0, SCOLS_JSON_STRING,
			"valid, or invalid when its image can no longer be read" },
	[COL_REASON] = { "REASON", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING,
			 "why it is invalid (store full, I/O error while copying, ...)" },
	[COL_CHUNKS] = { "CHUNKS", 0, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			 "chunks it reads from the store" },
};

/* The columns to print, in order; all of them unless -o says otherwise. */
static int columns[4 * ARRAY_SIZE(infos)];
static size_t ncolumns;

/**
 * output_set_columns() - choose the table columns (-o)
 * @list: column names separated by commas, any case.
 *
 * Return: 0, or -1 after a message naming the unknown column.
 */
int output_set_columns(const char *list)
{
	const char *p = list;

	ncolumns = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < ARRAY_SIZE(infos); i++)
			if (strlen(infos[i].name) == len &&
			    !strncasecmp(infos[i].name, p, len))
				break;
		if (i == ARRAY_SIZE(infos)) {
			fprintf(stderr, "%s: unknown column: %.*s\n", prog,
				(int)len, p);
			return -1;
		}
		if (ncolumns == ARRAY_SIZE(columns)) {
			fprintf(stderr, "%s: too many columns\n", prog);
			return -1;
		}
		columns[ncolumns++] = i;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!ncolumns) {
		fprintf(stderr, "%s: no columns given\n", prog);
		return -1;
	}
	return 0;
}

/* The "Columns:" part of a command's help. */
void output_columns_help(FILE *out)
{
	size_t i;

	fputs("\nColumns (all by default):\n", out);
	for (i = 0; i < ARRAY_SIZE(infos); i++)
		fprintf(out, "  %-8s %s\n", infos[i].name, infos[i].help);
}

/* An empty table with the chosen columns and output mode. */
struct libscols_table *snaptab_new(void)
{
	struct libscols_table *tb = scols_new_table();
	size_t i;

	if (!tb || scols_table_set_name(tb, "snapshots"))
		oom();
	scols_table_enable_json(tb, opts.json);
	scols_table_enable_raw(tb, opts.raw);
	scols_table_enable_noheadings(tb, opts.noheadings);
	if (!ncolumns)
		for (i = 0; i < ARRAY_SIZE(infos); i++)
			columns[ncolumns++] = i;
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
	default:
		return strerror(-si->error);
	}
}

/* Add a row for snapshot @si of the origin named @origin. */
void snaptab_add(struct libscols_table *tb, const char *origin,
		 const struct volsnap_snapshot_info *si)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[64];
	size_t i;

	if (!ln)
		oom();
	for (i = 0; i < ncolumns; i++) {
		const char *data = buf;
		int ret;

		switch (columns[i]) {
		case COL_ORIGIN:
			data = origin;
			break;
		case COL_ID:
			snprintf(buf, sizeof(buf), "%u", si->id);
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
		case COL_REASON:
			data = snap_reason(si);
			break;
		case COL_CHUNKS:
			snprintf(buf, sizeof(buf), "%llu",
				 (unsigned long long)si->chunks);
			break;
		}
		ret = scols_line_set_data(ln, i, data);
		if (ret)
			oom();
	}
}

/*
 * libsmartcols prints nothing at all for a table without lines; a list
 * with no snapshots still shows its header, as losetup does.
 */
static void print_header(struct libscols_table *tb)
{
	size_t i;

	if (opts.noheadings)
		return;
	for (i = 0; i < ncolumns; i++)
		printf("%s%s", i ? " " : "",
		       scols_column_get_name(scols_table_get_column(tb, i)));
	putchar('\n');
}

/* Print the table to stdout and free it. */
void snaptab_print(struct libscols_table *tb)
{
	if (!opts.json && !scols_table_get_nlines(tb))
		print_header(tb);
	else
		scols_print_table(tb);
	scols_unref_table(tb);
}

/**
 * snaptab_json_members() - the table as members of a JSON object
 * @tb: a table made in JSON mode.
 *
 * For 'status', which puts the snapshot array next to the origin's object:
 * the table printed as JSON, without its outer braces, so that it reads
 * "\n   \"snapshots\": [...]\n".
 *
 * Return: a malloc()ed string, to free().
 */
char *snaptab_json_members(struct libscols_table *tb)
{
	char *s = NULL, *open, *close;

	if (scols_print_table_to_string(tb, &s) || !s)
		oom();
	open = strchr(s, '{');
	close = strrchr(s, '}');
	if (!open || !close || close < open) {
		free(s);
		return xstrdup("\"snapshots\": []");
	}
	*close = '\0';
	memmove(s, open + 1, strlen(open + 1) + 1);
	return s;
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

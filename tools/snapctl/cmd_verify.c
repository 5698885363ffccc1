// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - verify: the filesystem's own read-only check of a snapshot
 *
 * libblkid probes the image for its filesystem type, which picks the
 * checker: e2fsck -fn, xfs_repair -n or btrfs check --readonly. The
 * checker's output goes to a pipe, of which the last lines are kept and
 * shown when it fails; its exit status is the verdict. An invalid
 * snapshot is reported without running a checker.
 *
 * Re-reading the preserved chunks against checksums needs store format
 * v2 and is not done here yet.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <blkid.h>

#include "snapctl.h"

#define TAIL_BYTES	8192	/* the checker's output kept */
#define TAIL_LINES	10	/* of it, shown when it fails */
#define HEAD_BYTES	4096	/* the start of its output, kept too */

/* What xfs_repair -n says of a log it does not replay. */
#define XFS_DIRTY_LOG	"valuable metadata changes in a log"

/**
 * struct checker - a filesystem's read-only checker
 * @fstypes: the libblkid types it checks, "|"-separated.
 * @prog: the program.
 * @args: its options; the image follows them.
 * @package: the Debian package that has it, for the message.
 */
struct checker {
	const char *fstypes;
	const char *prog;
	const char *args[3];
	const char *package;
};

static const struct checker checkers[] = {
	{ "ext2|ext3|ext4", "e2fsck", { "-fn" }, "e2fsprogs" },
	{ "xfs", "xfs_repair", { "-n" }, "xfsprogs" },
	{ "btrfs", "btrfs", { "check", "--readonly" }, "btrfs-progs" },
};

/**
 * struct result - what verify found for one snapshot
 * @image: its image, /dev/volsnapN.
 * @origin: its origin's /dev name.
 * @id: its id.
 * @set: its set, or 0.
 * @fstype: the filesystem libblkid found, or NULL.
 * @checker: the checker's program, or NULL when none ran.
 * @command: the command line run, or "".
 * @status: the checker's exit status, or -1 when it did not exit.
 * @valid: the verdict.
 * @secs: how long it took.
 * @reason: why it is not valid, or "".
 * @tail: the checker's last lines when it failed, or NULL.
 * @dirty_log: xfs_repair -n found a log it did not replay.
 */
struct result {
	char *image;
	char *origin;
	unsigned int id;
	unsigned long long set;
	char *fstype;
	const char *checker;
	char command[PATH_MAX + 64];
	int status;
	bool valid;
	double secs;
	char reason[256];
	char *tail;
	bool dirty_log;
};

static bool fstype_in(const char *type, const char *list)
{
	size_t len = strlen(type);
	const char *p = list;

	for (;;) {
		if (!strncmp(p, type, len) && (p[len] == '|' || !p[len]))
			return true;
		p = strchr(p, '|');
		if (!p)
			return false;
		p++;
	}
}

/*
 * The filesystem on @path as libblkid probes it: 0 with *@type set, 1 when
 * it finds none, -1 after setting @r->reason.
 */
static int probe_fstype(const char *path, char **type, struct result *r)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *t;
	int ret;

	*type = NULL;
	if (!pr) {
		snprintf(r->reason, sizeof(r->reason), "cannot open it: %s",
			 strerror(errno));
		return -1;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	ret = blkid_do_safeprobe(pr);
	if (ret == 0 && !blkid_probe_lookup_value(pr, "TYPE", &t, NULL))
		*type = xstrdup(t);
	blkid_free_probe(pr);
	if (*type)
		return 0;
	if (ret == -2) {
		snprintf(r->reason, sizeof(r->reason),
			 "several filesystem signatures: which one is meant is not known");
		return -1;
	}
	if (ret < 0) {
		snprintf(r->reason, sizeof(r->reason), "cannot probe it");
		return -1;
	}
	return 1;
}

/* The full path of @prog in $PATH, /usr/sbin or /sbin, or NULL. */
static char *find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *dirs, *dir, *save, buf[PATH_MAX];
	char *ret = NULL;

	if (asprintf(&dirs, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin") < 0)
		oom();
	for (dir = strtok_r(dirs, ":", &save); dir && !ret;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", *dir ? dir : ".", prog);
		if (!access(buf, X_OK))
			ret = xstrdup(buf);
	}
	free(dirs);
	return ret;
}

/*
 * The last TAIL_LINES lines of @buf (@len bytes) that are not blank,
 * malloc()ed, "\n"-separated.
 */
static char *last_lines(const char *buf, size_t len)
{
	size_t end = len, start, out = 0, i;
	const char *lines[TAIL_LINES];
	size_t lens[TAIL_LINES];
	int n = 0;
	char *ret;

	while (end && n < TAIL_LINES) {
		start = end;
		while (start && buf[start - 1] != '\n')
			start--;
		for (i = start; i < end && isspace((unsigned char)buf[i]); i++)
			;
		if (i < end) {
			lines[n] = buf + start;
			lens[n] = end - start;
			while (lens[n] && isspace((unsigned char)lines[n][lens[n] - 1]))
				lens[n]--;
			out += lens[n] + 1;
			n++;
		}
		end = start ? start - 1 : 0;
	}
	ret = xrealloc(NULL, out + 1);
	out = 0;
	while (n--) {
		memcpy(ret + out, lines[n], lens[n]);
		out += lens[n];
		ret[out++] = '\n';
	}
	ret[out ? out - 1 : 0] = '\0';
	return ret;
}

/* Elapsed time on standard error while it is a terminal. */
static void progress(bool on, const char *image, const char *prog, double t0)
{
	if (on)
		fprintf(stderr, "\r\033[Kverify %s: %s, %.0f s", image, prog,
			now() - t0);
}

/**
 * run_checker() - run @argv, its output into a buffer
 * @argv: the program (a full path) and its arguments.
 * @r: the result: @status, @valid, @reason and @tail are set.
 *
 * Return: 0 when it ran, -1 when it could not be started.
 */
static int run_checker(char *const argv[], struct result *r)
{
	bool tty = isatty(STDERR_FILENO);
	size_t len = 0, cap = 2 * TAIL_BYTES, hlen = 0;
	char *buf = xrealloc(NULL, cap), head[HEAD_BYTES + 1];
	double t0 = now(), shown = t0;
	struct pollfd pfd;
	int pipefd[2], st, null;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC)) {
		snprintf(r->reason, sizeof(r->reason), "cannot make a pipe: %s",
			 strerror(errno));
		free(buf);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(r->reason, sizeof(r->reason), "cannot fork: %s",
			 strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		free(buf);
		return -1;
	}
	if (!pid) {
		null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
		    dup2(pipefd[1], STDOUT_FILENO) < 0 ||
		    dup2(pipefd[1], STDERR_FILENO) < 0)
			_exit(126);
		/* Messages as documented, whatever the user's language. */
		setenv("LC_ALL", "C", 1);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	progress(tty, r->image, r->checker, t0);
	for (;;) {
		if (poll(&pfd, 1, 250) < 0 && errno != EINTR)
			break;
		if (pfd.revents) {
			n = read(pipefd[0], buf + len, cap - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (hlen < HEAD_BYTES) {
				memcpy(head + hlen, buf + len,
				       HEAD_BYTES - hlen < (size_t)n ?
				       HEAD_BYTES - hlen : (size_t)n);
				hlen += HEAD_BYTES - hlen < (size_t)n ?
					HEAD_BYTES - hlen : (size_t)n;
			}
			len += n;
			if (len == cap) {	/* keep the last TAIL_BYTES */
				memmove(buf, buf + len - TAIL_BYTES, TAIL_BYTES);
				len = TAIL_BYTES;
			}
		}
		if (now() - shown >= 1) {
			shown = now();
			progress(tty, r->image, r->checker, t0);
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (tty)
		fputs("\r\033[K", stderr);

	head[hlen] = '\0';
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->valid = r->status == 0;
	r->dirty_log = !strcmp(r->checker, "xfs_repair") && strstr(head, XFS_DIRTY_LOG);
	if (WIFSIGNALED(st))
		snprintf(r->reason, sizeof(r->reason), "%s was killed by signal %d (%s)",
			 r->checker, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (r->status == 127 || r->status == 126)
		snprintf(r->reason, sizeof(r->reason), "%s could not be run",
			 r->checker);
	else if (r->status && r->dirty_log)
		snprintf(r->reason, sizeof(r->reason),
			 "its log holds metadata changes not replayed, which %s -n "
			 "does not replay: it cannot tell (exit status %d)",
			 r->checker, r->status);
	else if (r->status)
		snprintf(r->reason, sizeof(r->reason),
			 "%s found it not clean (exit status %d)", r->checker,
			 r->status);
	if (!r->valid)
		r->tail = last_lines(buf, len);
	free(buf);
	return 0;
}

/* Check the snapshot @ref; fills @r. */
static void verify_one(const struct snap_ref *ref, struct result *r)
{
	const struct checker *c = NULL;
	char *argv[8], *path;
	double t0 = now();
	size_t i, n = 0;

	memset(r, 0, sizeof(*r));
	r->image = image_name(ref->info.image_index);
	r->origin = dev_name(ref->origin);
	r->id = ref->info.id;
	r->set = ref->info.set_id;
	r->status = -1;

	if (ref->info.state & VOLSNAP_SNAP_INVALID) {
		snprintf(r->reason, sizeof(r->reason), "the snapshot is invalid (%s)",
			 snap_reason(&ref->info));
		goto out;
	}
	switch (probe_fstype(r->image, &r->fstype, r)) {
	case -1:
		goto out;
	case 1:
		snprintf(r->reason, sizeof(r->reason),
			 "no filesystem to check (libblkid recognizes none)");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(checkers); i++)
		if (fstype_in(r->fstype, checkers[i].fstypes))
			c = &checkers[i];
	if (!c) {
		snprintf(r->reason, sizeof(r->reason),
			 "no read-only checker known for %s", r->fstype);
		goto out;
	}
	r->checker = c->prog;
	path = find_program(c->prog);
	if (!path) {
		snprintf(r->reason, sizeof(r->reason),
			 "%s is not installed (it comes with %s)", c->prog,
			 c->package);
		goto out;
	}
	argv[n++] = path;
	snprintf(r->command, sizeof(r->command), "%s", c->prog);
	for (i = 0; i < ARRAY_SIZE(c->args) && c->args[i]; i++) {
		argv[n++] = (char *)c->args[i];
		snprintf(r->command + strlen(r->command),
			 sizeof(r->command) - strlen(r->command), " %s", c->args[i]);
	}
	argv[n++] = r->image;
	argv[n] = NULL;
	snprintf(r->command + strlen(r->command),
		 sizeof(r->command) - strlen(r->command), " %s", r->image);
	run_checker(argv, r);
	free(path);
out:
	r->secs = now() - t0;
}

static void json_or_null(const char *s)
{
	if (s && *s)
		json_string(s);
	else
		fputs("null", stdout);
}

static void print_json(const struct result *r)
{
	fputs("{\"image\": ", stdout);
	json_string(r->image);
	fputs(", \"origin\": ", stdout);
	json_string(r->origin);
	printf(", \"id\": %u, \"set\": ", r->id);
	if (r->set)
		printf("%llu", r->set);
	else
		fputs("null", stdout);
	fputs(", \"fstype\": ", stdout);
	json_or_null(r->fstype);
	fputs(", \"checker\": ", stdout);
	json_or_null(r->checker);
	fputs(", \"command\": ", stdout);
	json_or_null(r->command);
	fputs(", \"exit_status\": ", stdout);
	if (r->status >= 0)
		printf("%d", r->status);
	else
		fputs("null", stdout);
	printf(", \"valid\": %s, \"seconds\": %.3f, \"reason\": ",
	       r->valid ? "true" : "false", r->secs);
	json_or_null(r->valid ? NULL : r->reason);
	fputs(", \"output\": ", stdout);
	json_or_null(r->tail);
	fputs(", \"dirty_log\": ", stdout);
	if (r->checker && r->status >= 0 && !strcmp(r->checker, "xfs_repair"))
		fputs(r->dirty_log ? "true" : "false", stdout);
	else
		fputs("null", stdout);
	putchar('}');
}

/* One line on stdout; why it is not valid, and the tail, on stderr. */
static void print_text(const struct result *r)
{
	const char *p, *nl;

	printf("%s (snapshot %u of %s): ", r->image, r->id, r->origin);
	if (r->valid)
		printf("%s, valid (%s: exit status 0, %.1f s)\n", r->fstype,
		       r->command, r->secs);
	else
		printf("%s%snot valid: %s\n", r->fstype ? r->fstype : "",
		       r->fstype ? ", " : "", r->reason);
	if (r->valid)
		return;
	fflush(stdout);
	errx_errno(0, "%s: %s", r->image, r->reason);
	if (!r->tail || !*r->tail)
		return;
	fprintf(stderr, "%s's last lines (%s):\n", r->checker, r->command);
	for (p = r->tail; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		fprintf(stderr, "  %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (!nl)
			break;
	}
}

static void result_free(struct result *r)
{
	free(r->image);
	free(r->origin);
	free(r->fstype);
	free(r->tail);
}

/* verify --set @set: every snapshot of the set, on whichever origin. */
static int verify_set(int fd, unsigned long long set)
{
	struct volsnap_origin_info *origins;
	struct snap_ref ref;
	struct volsnap_snapshot_info *snaps;
	unsigned int i, j, nr, count, found = 0, bad = 0;
	struct result r;
	double t0 = now();
	int ret;

	ret = ctl_list(fd, &origins, &nr);
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, "cannot list the origins");
		return EXIT_FAIL;
	}
	if (opts.json)
		printf("{\"set\": %llu, \"snapshots\": [", set);
	for (i = 0; i < nr; i++) {
		ref.origin = makedev(origins[i].major, origins[i].minor);
		if (ctl_status(fd, ref.origin, &ref.origin_info, &snaps, &count))
			continue;	/* detached meanwhile */
		for (j = 0; j < count; j++) {
			if (snaps[j].set_id != set)
				continue;
			ref.info = snaps[j];
			verify_one(&ref, &r);
			if (opts.json) {
				fputs(found ? ", " : "", stdout);
				print_json(&r);
			} else {
				print_text(&r);
			}
			fflush(stdout);
			found++;
			bad += !r.valid;
			result_free(&r);
		}
		free(snaps);
	}
	free(origins);
	if (opts.json)
		printf("], \"valid\": %s, \"seconds\": %.3f}\n",
		       found && !bad ? "true" : "false", now() - t0);
	if (!found)
		errx_errno(0, "no snapshot set %llu", set);
	return !found || bad ? EXIT_FAIL : EXIT_OK;
}

static int do_verify(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "set",  required_argument, NULL, 's' },
		{ "json", no_argument,       NULL, 'J' },
		{ "help", no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *set = NULL;
	unsigned long long set_id;
	struct snap_ref ref;
	struct result r;
	int c, fd, ret;
	char *end;

	while ((c = cmd_getopt(cmd, argc, argv, "s:J", longopts)) != -1) {
		if (c == 's')
			set = optarg;
		else if (c == 'J')
			opts.json = true;
	}
	if (set) {
		if (cmd_nargs(cmd, argc, argv, 0, 0))
			return EXIT_USAGE;
		errno = 0;
		set_id = strtoull(set, &end, 10);
		if (!isdigit((unsigned char)set[0]) || *end || errno || !set_id)
			return cmd_usage(cmd, "invalid snapshot set id '%s'", set);
		fd = ctl_open();
		ret = verify_set(fd, set_id);
		close(fd);
		return ret;
	}
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;

	fd = ctl_open();
	if (snap_lookup(fd, argv[optind], &ref)) {
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	free(ref.image);
	verify_one(&ref, &r);
	if (opts.json) {
		print_json(&r);
		putchar('\n');
	} else {
		print_text(&r);
	}
	ret = r.valid ? EXIT_OK : EXIT_FAIL;
	result_free(&r);
	return ret;
}

const struct command cmd_verify = {
	.name = "verify",
	.fn = do_verify,
	.args = "{IMAGE | --set SET} [-J]",
	.summary = "check the filesystem in a snapshot with its own read-only checker",
	.help =
	"Run the filesystem's own read-only checker on the snapshot image\n"
	"IMAGE (/dev/volsnapN, or a link to it), or on every snapshot of the\n"
	"snapshot set SET: e2fsck -fn for ext2, ext3 and ext4, xfs_repair -n\n"
	"for xfs, btrfs check --readonly for btrfs, as libblkid finds the\n"
	"filesystem. Exit status 0 when every snapshot is valid; 1 when one is\n"
	"not: the checker failed (its exit status and last lines are shown),\n"
	"is not installed, the snapshot is invalid (no checker is run), or the\n"
	"image holds no filesystem libblkid recognizes (nothing was checked,\n"
	"which is not a pass). The checker's output is kept, not shown, unless\n"
	"it fails. On a terminal, the elapsed time is shown on standard error.\n"
	"\n"
	"A snapshot of a mounted xfs has a log not replayed (a freeze leaves it\n"
	"covered, not clean), which xfs_repair -n does not replay: it warns and\n"
	"exits 1, and verify says the snapshot cannot be told valid.\n"
	"\n"
	"Only the filesystem is checked: re-reading the preserved chunks\n"
	"against checksums needs the store format v2 and is not done yet.\n"
	"\n"
	"Options:\n"
	"  -s, --set SET  verify every snapshot of snapshot set SET (as\n"
	"                 'snapctl list' shows it, column SET)\n"
	"  -J, --json     JSON output\n"
	"  -h, --help     show this help and exit\n",
};

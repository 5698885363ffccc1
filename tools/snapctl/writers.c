// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - writers: programs that make applications consistent around a
 * snapshot, and 'snapctl backup-complete'
 *
 * A writer is an executable in the writers directory (default
 * WRITERS_DIR). 'snapctl create' runs every writer, in name order, with
 * the event as its only argument:
 *
 *   prepare   before anything is frozen (flush, checkpoint)
 *   freeze    inside the hold: one origin's filesystem frozen and writes
 *             held (VOLSNAP_IOC_FREEZE, then VOLSNAP_IOC_CREATE with
 *             VOLSNAP_CREATE_FROZEN); a set's members are frozen by the
 *             module inside one call, which has no frozen variant, so for a
 *             set 'freeze' runs just before that call. Either way it must
 *             return within the hold limit (hold_limit_ms).
 *   thaw      after the snapshot (or its failure): to every writer that
 *             got freeze
 *   abort     when anything failed after prepare: to every writer that got
 *             prepare; no snapshot is kept
 *
 * 'snapctl backup-complete' sends backup-complete. Each writer runs in its
 * own process group with standard input from /dev/null and its standard
 * output and error passed to snapctl's standard error, each line prefixed
 * with its name. One that fails, times out (it is killed, with its process
 * group) or is interrupted fails the whole operation, and is named.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapctl.h"

#define HOLD_LIMIT_PARAM	"/sys/module/volsnap/parameters/hold_limit_ms"
#define HOLD_LIMIT_DEFAULT_MS	10000

/* SIGINT, SIGTERM and SIGHUP: blocked while writers may run, and taken. */
static sigset_t stop_signals;
static int interrupted;		/* the first one taken, or 0 */

/**
 * writers_catch_signals() - from now on SIGINT, SIGTERM and SIGHUP end the
 * running writer and start the cleanup (abort) instead of killing snapctl
 *
 * They are blocked, and taken by check_signals() between the steps and
 * while a writer runs.
 */
static void writers_catch_signals(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
}

/* Take a pending stop signal, if any. Return: whether one came. */
static bool check_signals(void)
{
	const struct timespec now = { 0, 0 };
	int sig;

	if (!interrupted && !sigisemptyset(&stop_signals)) {
		sig = sigtimedwait(&stop_signals, NULL, &now);
		if (sig > 0)
			interrupted = sig;
	}
	return interrupted;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * The names run-parts(8) runs: letters, digits, '_' and '-' only. This
 * skips editor backups (name~, .name.swp), package leftovers
 * (name.dpkg-old, name.rpmnew) and disabled writers (name.disabled).
 */
static bool writer_name_ok(const char *name)
{
	const char *p;

	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return p != name;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/**
 * writers_load() - find the writers to run
 * @w: filled; @w->dir and @w->explicit set by the caller (@w->dir NULL:
 *	no writers, --no-writers).
 *
 * A missing default directory means no writers; a missing directory given
 * with --writers is an error.
 *
 * Return: 0, or -1 after a message.
 */
int writers_load(struct writers *w)
{
	struct dirent *de;
	struct stat st;
	char *path;
	DIR *d;

	w->names = NULL;
	w->n = 0;
	if (!w->dir)
		return 0;
	d = opendir(w->dir);
	if (!d) {
		if (errno == ENOENT && !w->explicit)
			return 0;
		errx_errno(errno, "writers directory %s", w->dir);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!writer_name_ok(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", w->dir, de->d_name) < 0)
			oom();
		if (!stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK)) {
			w->names = xrealloc(w->names, (w->n + 1) * sizeof(*w->names));
			w->names[w->n++] = xstrdup(de->d_name);
		}
		free(path);
	}
	closedir(d);
	if (w->n)
		qsort(w->names, w->n, sizeof(*w->names), cmp_names);
	return 0;
}

/** writers_free() - free what writers_load() found */
void writers_free(struct writers *w)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		free(w->names[i]);
	free(w->names);
	w->names = NULL;
	w->n = 0;
}

/**
 * writers_hold_limit_ms() - the module's hold limit, in milliseconds
 *
 * Return: the parameter hold_limit_ms, or its default when it cannot be
 * read.
 */
unsigned long writers_hold_limit_ms(void)
{
	unsigned long ms = HOLD_LIMIT_DEFAULT_MS;
	FILE *f = fopen(HOLD_LIMIT_PARAM, "r");

	if (f) {
		if (fscanf(f, "%lu", &ms) != 1)
			ms = HOLD_LIMIT_DEFAULT_MS;
		fclose(f);
	}
	return ms;
}

/*
 * Pass the whole lines of @name's output in @buf (@fill bytes) on, each
 * prefixed with its name; @last: the rest too. What is left moves to the
 * start of @buf.
 */
static void forward(const char *name, char *buf, size_t *fill, bool last)
{
	char *nl, *p = buf;

	while ((nl = memchr(p, '\n', buf + *fill - p))) {
		fprintf(stderr, "%s: %.*s\n", name, (int)(nl - p), p);
		p = nl + 1;
	}
	if (last && p < buf + *fill) {
		fprintf(stderr, "%s: %.*s\n", name, (int)(buf + *fill - p), p);
		p = buf + *fill;
	}
	/* A line longer than the buffer goes out in pieces. */
	if (p == buf && *fill == WRITER_LINE_MAX) {
		fprintf(stderr, "%s: %.*s\n", name, (int)*fill, p);
		p = buf + *fill;
	}
	*fill -= p - buf;
	memmove(buf, p, *fill);
}

/* Read what is there of @fd into @buf, passing whole lines on. */
static void drain(int fd, const char *name, char *buf, size_t *fill)
{
	ssize_t got;

	while ((got = read(fd, buf + *fill, WRITER_LINE_MAX - *fill)) > 0) {
		*fill += got;
		forward(name, buf, fill, false);
	}
}

static void __noreturn exec_writer(const char *path, const char *event, int out)
{
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execl(path, path, event, (char *)NULL);
	fprintf(stderr, "cannot run: %s\n", strerror(errno));
	_exit(126);
}

/**
 * writer_run() - run one writer for one event
 * @w: the writers.
 * @i: which.
 * @event: the event, its argument.
 * @timeout_ms: how long it may take.
 * @limit_ms: the time limit, for the message (@timeout_ms is what is left
 *	of it when writers share it).
 * @what: the time limit's name, for the message.
 * @interruptible: a signal to snapctl ends it (not during cleanup).
 *
 * Return: 0 when it exited 0, else -1 after naming it and saying why.
 */
static int writer_run(const struct writers *w, unsigned int i, const char *event,
		      unsigned long long timeout_ms, unsigned long long limit_ms,
		      const char *what, bool interruptible)
{
	const char *name = w->names[i];
	unsigned long long deadline = now_ms() + timeout_ms;
	char buf[WRITER_LINE_MAX], *path;
	struct pollfd pfd;
	int pipefd[2], status = 0;
	bool timed_out = false, stopped = false;
	size_t fill = 0;
	pid_t pid;

	if (asprintf(&path, "%s/%s", w->dir, name) < 0)
		oom();
	setenv("VOLSNAP_EVENT", event, 1);
	if (pipe2(pipefd, O_CLOEXEC)) {
		errx_errno(errno, "writer %s: %s: cannot make a pipe", name, event);
		free(path);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		errx_errno(errno, "writer %s: %s: cannot start it", name, event);
		close(pipefd[0]);
		close(pipefd[1]);
		free(path);
		return -1;
	}
	if (!pid)
		exec_writer(path, event, pipefd[1]);
	setpgid(pid, pid);	/* both sides: whichever runs first */
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	for (;;) {
		pid_t got;

		poll(&pfd, 1, 20);
		drain(pipefd[0], name, buf, &fill);
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (!timed_out && !stopped && now_ms() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
		}
		if (interruptible && check_signals() && !stopped && !timed_out) {
			stopped = true;
			kill(-pid, SIGKILL);
		}
	}
	/* What it wrote before it exited; its children may keep the pipe. */
	drain(pipefd[0], name, buf, &fill);
	forward(name, buf, &fill, true);
	close(pipefd[0]);
	free(path);

	if (timed_out) {
		errx_errno(0, "writer %s: %s did not return within %s (%llu ms): killed",
			   name, event, what, limit_ms);
		return -1;
	}
	if (stopped) {
		errx_errno(0, "writer %s: %s interrupted by signal %d: killed",
			   name, event, (int)interrupted);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		errx_errno(0, "writer %s: %s failed: killed by signal %d",
			   name, event, WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status)) {
		errx_errno(0, "writer %s: %s failed (exit status %d)",
			   name, event, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/**
 * writers_run() - send an event to writers
 * @w: the writers.
 * @event: the event.
 * @count: send it to writers 0 to @count - 1 only.
 * @timeout_ms: each writer's time limit; with @shared, the whole event's.
 * @what: the limit's name, for messages.
 * @stop: stop at the first failure (and interruptible by a signal); else
 *	every writer gets the event whatever the others do (cleanup).
 * @shared: @timeout_ms is one deadline for all of them (freeze).
 *
 * Return: with @stop, the number of writers that got the event (the one
 * that failed included), as a negative number -(n + 1) on failure, or @count
 * when all succeeded; without @stop, @count, or -1 when any failed.
 */
int writers_run(const struct writers *w, const char *event, unsigned int count,
		unsigned long long timeout_ms, const char *what, bool stop,
		bool shared)
{
	unsigned long long deadline = now_ms() + timeout_ms, left;
	unsigned int i;
	bool failed = false;

	for (i = 0; i < count && i < w->n; i++) {
		if (stop && check_signals()) {
			errx_errno(0, "interrupted by signal %d before writer %s: %s",
				   (int)interrupted, w->names[i], event);
			return -(int)i - 1;
		}
		left = timeout_ms;
		if (shared) {
			unsigned long long now = now_ms();

			left = deadline > now ? deadline - now : 0;
		}
		if (writer_run(w, i, event, left, timeout_ms, what, stop)) {
			if (stop)
				return -(int)(i + 1) - 1;
			failed = true;
		}
	}
	return failed ? -1 : (int)i;
}

/* Append @word to the space-separated list @list, spaces in it as \040. */
static void list_add(char **list, const char *word)
{
	size_t len = *list ? strlen(*list) : 0;
	const char *p;
	char *q;

	*list = xrealloc(*list, len + 4 * strlen(word) + 2);
	q = *list + len;
	if (len)
		*q++ = ' ';
	for (p = word; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\') {
			q += sprintf(q, "\\%03o", (unsigned char)*p);
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
}

/**
 * writers_env_devices() - set VOLSNAP_DEVICES and VOLSNAP_MOUNTS
 * @devs: the origins.
 * @n: how many.
 */
void writers_env_devices(const dev_t *devs, unsigned int n)
{
	char *names = NULL, *mounts = NULL;
	unsigned int i;

	for (i = 0; i < n; i++) {
		char *name = dev_name(devs[i]);
		char *mnt = dev_mountpoint(devs[i]);

		list_add(&names, name);
		list_add(&mounts, mnt ? mnt : "-");
		free(name);
		free(mnt);
	}
	setenv("VOLSNAP_DEVICES", names ? names : "", 1);
	setenv("VOLSNAP_MOUNTS", mounts ? mounts : "", 1);
	free(names);
	free(mounts);
}

/**
 * writers_env_images() - set VOLSNAP_IMAGES, VOLSNAP_SET and VOLSNAP_BACKUP
 * @images: the image device numbers (index), one per origin; %NULL to
 *	unset the three.
 * @n: how many.
 * @set: the set's id, 0 for a lone snapshot.
 */
void writers_env_images(const unsigned int *images, unsigned int n,
			unsigned long long set)
{
	char *list = NULL, backup[48];
	unsigned int i;

	if (!images) {
		unsetenv("VOLSNAP_IMAGES");
		unsetenv("VOLSNAP_SET");
		unsetenv("VOLSNAP_BACKUP");
		return;
	}
	for (i = 0; i < n; i++) {
		char *image = image_name(images[i]);

		list_add(&list, image);
		free(image);
	}
	setenv("VOLSNAP_IMAGES", list ? list : "", 1);
	free(list);
	if (set) {
		snprintf(backup, sizeof(backup), "%llu", set);
		setenv("VOLSNAP_SET", backup, 1);
		snprintf(backup, sizeof(backup), "set-%llu", set);
	} else {
		unsetenv("VOLSNAP_SET");
		snprintf(backup, sizeof(backup), "volsnap%u", images[0]);
	}
	setenv("VOLSNAP_BACKUP", backup, 1);
}

/* backup-complete: the snapshots of one set, or one image. */
struct bc_member {
	dev_t origin;
	unsigned int image;
};

/*
 * The members of set @set (0: the lone snapshot whose image index is
 * @image), from the module's list. Returns how many, -1 after a message.
 */
static int bc_members(unsigned long long set, long image, struct bc_member **out)
{
	struct volsnap_origin_info *origins, oi;
	struct volsnap_snapshot_info *snaps;
	struct bc_member *m = NULL;
	unsigned int i, j, nr, count;
	int fd = ctl_open(), ret, n = 0;

	ret = ctl_list(fd, &origins, &nr);
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, "cannot list the origins");
		close(fd);
		return -1;
	}
	for (i = 0; i < nr; i++) {
		dev_t devno = makedev(origins[i].major, origins[i].minor);

		if (ctl_status(fd, devno, &oi, &snaps, &count))
			continue;	/* detached meanwhile */
		for (j = 0; j < count; j++) {
			if (set ? snaps[j].set_id != set :
			    snaps[j].image_index != (unsigned long)image)
				continue;
			m = xrealloc(m, (n + 1) * sizeof(*m));
			m[n].origin = devno;
			m[n].image = snaps[j].image_index;
			n++;
		}
		free(snaps);
	}
	free(origins);
	close(fd);
	*out = m;
	return n;
}

static int do_backup_complete(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "copy",       no_argument,       NULL, 'c' },
		{ "writers",    required_argument, NULL, 'W' },
		{ "no-writers", no_argument,       NULL, 'N' },
		{ "timeout",    required_argument, NULL, 't' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct writers w = { .dir = WRITERS_DIR };
	unsigned long long set = 0, timeout = WRITER_TIMEOUT_S;
	struct bc_member *m;
	unsigned int *images;
	bool copy = false, no_writers = false;
	const char *arg;
	long image = -1;
	char *end;
	dev_t *devs;
	int c, i, n, ret;

	while ((c = cmd_getopt(cmd, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'c':
			copy = true;
			break;
		case 'W':
			w.dir = optarg;
			w.explicit = true;
			break;
		case 'N':
			no_writers = true;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout))
				return cmd_usage(cmd, "invalid --timeout '%s'", optarg);
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	if (no_writers)
		w.dir = NULL;
	arg = argv[optind];
	if (isdigit((unsigned char)arg[0])) {
		errno = 0;
		set = strtoull(arg, &end, 10);
		if (*end || errno || !set)
			return cmd_usage(cmd, "invalid snapshot set id '%s'", arg);
	} else {
		image = image_index(arg);
		if (image < 0)
			return cmd_usage(cmd, "'%s' is neither a snapshot set id "
					 "nor an image device /dev/volsnapN", arg);
	}

	n = bc_members(set, image, &m);
	if (n < 0)
		return EXIT_FAIL;
	if (!n) {
		if (set)
			errx_errno(0, "no snapshot set %llu", set);
		else
			errx_errno(0, "%s: no such snapshot", arg);
		return EXIT_FAIL;
	}
	if (writers_load(&w)) {
		free(m);
		return EXIT_FAIL;
	}
	devs = calloc(n, sizeof(*devs));
	images = calloc(n, sizeof(*images));
	if (!devs || !images)
		oom();
	for (i = 0; i < n; i++) {
		devs[i] = m[i].origin;
		images[i] = m[i].image;
	}
	writers_env_devices(devs, n);
	writers_env_images(images, n, set);
	setenv("VOLSNAP_BACKUP_TYPE", copy ? "copy" : "full", 1);
	unsetenv("VOLSNAP_CREATE");

	ret = writers_run(&w, "backup-complete", w.n, timeout * 1000,
			  "the time limit (--timeout)", false, false);
	if (ret < 0)
		errx_errno(0, "backup-complete: a writer failed");
	else
		printf("backup complete (%s): %s, %u writer%s\n",
		       copy ? "copy" : "full", getenv("VOLSNAP_BACKUP"), w.n,
		       w.n == 1 ? "" : "s");
	free(devs);
	free(images);
	free(m);
	writers_free(&w);
	return ret < 0 ? EXIT_FAIL : EXIT_OK;
}

/**
 * parse_seconds() - a whole number of seconds, 1 to 86400
 * @s: the text.
 * @secs: filled.
 *
 * Return: 0, or -1 when @s is not one.
 */
int parse_seconds(const char *s, unsigned long long *secs)
{
	char *end;

	errno = 0;
	*secs = strtoull(s, &end, 10);
	return !isdigit((unsigned char)s[0]) || *end || errno || !*secs ||
	       *secs > 86400 ? -1 : 0;
}

const struct command cmd_backup_complete = {
	.name = "backup-complete",
	.fn = do_backup_complete,
	.args = "{SET | /dev/volsnapN} [--copy] [--writers DIR | --no-writers]",
	.summary = "tell the writers that the backup of a snapshot set is done",
	.help =
	"Send the event backup-complete to every writer (see 'snapctl create\n"
	"--help'), for snapshot set SET as 'snapctl list' shows it, or for the\n"
	"lone snapshot whose image is /dev/volsnapN. Writers get the set's\n"
	"devices, mount points and images as at thaw, and VOLSNAP_BACKUP_TYPE:\n"
	"'full' (a full backup: a writer may now truncate its logs) or, with\n"
	"--copy, 'copy' (a copy backup: writers must not truncate logs). Every\n"
	"writer gets the event even when one fails; the exit status is 1 when\n"
	"any failed.\n"
	"\n"
	"Options:\n"
	"  -c, --copy          a copy backup: logs are not truncated\n"
	"  --writers DIR       the writers directory (default " WRITERS_DIR ")\n"
	"  --no-writers        run no writers\n"
	"  --timeout S         each writer's time limit in seconds (default 60)\n"
	"  -h, --help          show this help and exit\n",
};

static const struct errmsg writers_freeze_errors[] = {
	{ ENODEV, "not attached" },
	{ EBUSY, "already frozen" },
	{ ETIMEDOUT, "writes did not drain within the hold limit" },
	{ 0, NULL },
};

/* Delete the snapshots just made: a writer failed after them. */
static void undo_create(int fd, const dev_t *devs, const struct volsnap_create *m,
			unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct volsnap_delete del = {
			.flags = VOLSNAP_DELETE_FORCE,
			.major = major(devs[i]),
			.minor = minor(devs[i]),
			.id = m[i].id,
		};
		int ret = ctl_ioctl(fd, VOLSNAP_IOC_DELETE, &del);

		if (ret)
			errx_errno(-ret, "cannot delete snapshot %u of %s", m[i].id,
				   getenv("VOLSNAP_DEVICES"));
	}
}

/**
 * create_with_writers() - snapctl create, with writers around it
 * @w: the writers, at least one.
 * @devs: the origins.
 * @args: their names as given, for messages.
 * @n: how many; one: a lone snapshot, taken inside an explicit freeze so
 *	that freeze runs inside the hold; more: a snapshot set.
 * @flags: VOLSNAP_CREATE_WRITABLE or 0 (one origin only).
 * @prepare_s: prepare's (and thaw's and abort's) time limit per writer.
 *
 * prepare, freeze, the snapshot, thaw; on any failure or signal after
 * prepare began, thaw to the writers that got freeze, abort to those that
 * got prepare, and no snapshot is kept.
 *
 * Return: the exit code.
 */
int create_with_writers(const struct writers *w, const dev_t *devs,
			char *const *args, unsigned int n, unsigned int flags,
			unsigned long long prepare_s)
{
	unsigned long long limit = writers_hold_limit_ms(), prepare_ms = prepare_s * 1000;
	struct volsnap_origin_cmd oc = { 0 };
	struct volsnap_create_set cs = { 0 };
	struct volsnap_create *m;
	unsigned int i, prepared = 0, frozen = 0, *images;
	bool fs_frozen = false, made = false, ok = false;
	struct timespec ts;
	char token[64];
	int fd, got, ret;

	m = calloc(n, sizeof(*m));
	images = calloc(n, sizeof(*images));
	if (!m || !images)
		oom();
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(token, sizeof(token), "%ld-%lld", (long)getpid(), (long long)ts.tv_sec);
	setenv("VOLSNAP_CREATE", token, 1);
	writers_env_devices(devs, n);
	writers_env_images(NULL, 0, 0);
	unsetenv("VOLSNAP_BACKUP_TYPE");
	writers_catch_signals();
	fd = ctl_open();

	got = writers_run(w, "prepare", w->n, prepare_ms,
			  "the prepare time limit (--prepare-timeout)", true, false);
	prepared = got < 0 ? -got - 1 : got;
	if (got < 0)
		goto cleanup;

	if (n == 1) {
		oc.major = major(devs[0]);
		oc.minor = minor(devs[0]);
		ret = ctl_ioctl(fd, VOLSNAP_IOC_FREEZE, &oc);
		if (ret) {
			ctl_error(ret, args[0], writers_freeze_errors, "cannot freeze");
			goto cleanup;
		}
		fs_frozen = true;
	}
	got = writers_run(w, "freeze", w->n, limit,
			  "the hold limit (module parameter hold_limit_ms)", true, true);
	frozen = got < 0 ? -got - 1 : got;
	if (got < 0 || check_signals())
		goto thaw;

	for (i = 0; i < n; i++) {
		m[i].major = major(devs[i]);
		m[i].minor = minor(devs[i]);
	}
	if (n == 1) {
		m[0].flags = flags | VOLSNAP_CREATE_FROZEN;
		ret = ctl_ioctl(fd, VOLSNAP_IOC_CREATE, &m[0]);
		if (ret == -ETIMEDOUT)
			errx_errno(ETIMEDOUT, "%s: hold limit (%llu ms) reached before the "
				   "snapshot: thawed by the kernel (the freeze writers took "
				   "too long)", args[0], limit);
		else if (ret)
			ctl_error(ret, args[0], NULL, "cannot create a snapshot");
	} else {
		cs.count = n;
		cs.members = (uintptr_t)m;
		ret = ctl_ioctl(fd, VOLSNAP_IOC_CREATE_SET, &cs);
		if (ret)
			ctl_error(ret, cs.failed < n ? args[cs.failed] : "snapshot set",
				  NULL, "cannot create a snapshot set: no member has a "
				  "new snapshot");
	}
	made = !ret;

thaw:
	if (fs_frozen) {
		ret = ctl_ioctl(fd, VOLSNAP_IOC_THAW, &oc);
		if (ret && ret != -ETIMEDOUT)
			ctl_error(ret, args[0], NULL, "cannot thaw");
	}
	if (made) {
		for (i = 0; i < n; i++)
			images[i] = m[i].image_index;
		writers_env_images(images, n, cs.set_id);
	}
	got = writers_run(w, "thaw", frozen, prepare_ms,
			  "the time limit (--prepare-timeout)", false, false);
	ok = made && got >= 0 && !check_signals();
	if (made && !ok) {
		undo_create(fd, devs, m, n);
		writers_env_images(NULL, 0, 0);
	}

cleanup:
	if (!ok) {
		if (interrupted)
			errx_errno(0, "interrupted by signal %d", (int)interrupted);
		writers_run(w, "abort", prepared, prepare_ms,
			    "the time limit (--prepare-timeout)", false, false);
		errx_errno(0, "no snapshot taken: %s", n == 1 ? args[0] :
			   "snapshot set");
	}
	close(fd);
	if (ok && n == 1)
		create_print_one(&m[0], devs[0]);
	else if (ok)
		create_print_set(&cs, m, n);
	free(images);
	free(m);
	return ok ? EXIT_OK : EXIT_FAIL;
}

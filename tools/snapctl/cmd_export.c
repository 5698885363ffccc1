// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - serve a snapshot's image read-only over NBD
 *
 * 'snapctl export IMAGE' runs nbdkit (its file plugin, read-only) on the
 * image device as a child and supervises it: every EXPORT_POLL_NS it asks
 * the module whether the snapshot is still there and valid, and stops the
 * server when it is not, so that no client reads from a snapshot that was
 * deleted (or from another snapshot that took its image's number). SIGINT
 * and SIGTERM stop the server too.
 *
 * With --changed-since FROM, the chunks written between FROM and IMAGE
 * (VOLSNAP_IOC_DIFF, snap_diff()) are handed to nbdkit's extentlist filter:
 * NBD clients see them as data in the base:allocation metadata context and
 * the rest as holes that do not read as zeros.
 *
 * Nothing is written to the filesystem but the Unix socket: the extent list
 * is a memfd and nbdkit's pid file, which says when it is ready, a pipe;
 * nbdkit opens both by their /proc/self/fd names.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapctl.h"

/* How often the snapshot's state is looked at. */
#define EXPORT_POLL_NS	(200 * 1000 * 1000L)
/* Ticks nbdkit gets to exit after SIGTERM before it is killed (5 s). */
#define EXPORT_STOP_TICKS	25
/* The NBD server, run by its name through PATH. */
#define NBDKIT		"nbdkit"

/* Where the server listens, from --listen or --socket. */
struct export_addr {
	char *addr;		/* --listen: the address, without brackets */
	char *port;		/* --listen: the port */
	char *socket;		/* --socket: the absolute path */
};

static const struct errmsg diff_errors[] = {
	{ ENOTTY, "the loaded module cannot list changed chunks (update it)" },
	{ ESTALE, "a snapshot is invalid, what changed is not known" },
	{ EINVAL, "not newer than the snapshot of --changed-since" },
	{ 0, NULL },
};

/* Parse ADDR:PORT (ADDR may be [IPv6]) into @a; 0 or -1. */
static int parse_listen(const char *s, struct export_addr *a)
{
	const char *colon = strrchr(s, ':');
	const char *addr = s, *end;
	unsigned long port;
	char *p;

	if (!colon)
		return -1;
	end = colon;
	if (*s == '[') {
		if (colon == s || colon[-1] != ']')
			return -1;
		addr = s + 1;
		end = colon - 1;
	} else if (memchr(s, ':', colon - s)) {
		return -1;	/* IPv6 without brackets */
	}
	if (end == addr || !colon[1] || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &p, 10);
	if (errno || !port || port > 65535)
		return -1;
	a->addr = strndup(addr, end - addr);
	a->port = xstrdup(colon + 1);
	if (!a->addr)
		oom();
	return 0;
}

/* The NBD URI of the export, for clients; to free(). */
static char *export_uri(const struct export_addr *a)
{
	char *uri;
	int ret;

	if (a->socket)
		ret = asprintf(&uri, "nbd+unix:///?socket=%s", a->socket);
	else if (strchr(a->addr, ':'))
		ret = asprintf(&uri, "nbd://[%s]:%s/", a->addr, a->port);
	else
		ret = asprintf(&uri, "nbd://%s:%s/", a->addr, a->port);
	if (ret < 0)
		oom();
	return uri;
}

/*
 * Write the extent list of nbdkit's extentlist filter for an image of
 * @size bytes into a memfd: the extents of @d as data (type 0), every gap
 * as a hole that is not zero (type "hole"; a gap left out of the list
 * would be "hole,zero", which clients may skip or write as zeros).
 * Returns the fd, or -1 after a message.
 */
static int write_extent_list(const struct snap_diff *d, unsigned long long size)
{
	unsigned long long pos = 0, start, end;
	size_t i;
	FILE *f;
	int fd;

	fd = memfd_create("snapctl-export-extents", 0);
	if (fd < 0) {
		errx_errno(errno, "cannot create the extent list");
		return -1;
	}
	f = fdopen(dup(fd), "w");
	if (!f)
		oom();
	for (i = 0; i < d->nr && pos < size; i++) {
		start = d->ext[i].offset < size ? d->ext[i].offset : size;
		end = d->ext[i].offset + d->ext[i].length;
		if (end > size)
			end = size;
		if (start > pos)
			fprintf(f, "%llu %llu hole\n", pos, start - pos);
		if (end > start)
			fprintf(f, "%llu %llu\n", start, end - start);
		pos = end > pos ? end : pos;
	}
	if (pos < size)
		fprintf(f, "%llu %llu hole\n", pos, size - pos);
	if (fclose(f)) {
		errx_errno(errno, "cannot write the extent list");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Start nbdkit on @image, listening on @a, with the extent list @extents
 * (-1: none); it writes its pid to @ready_fd once it accepts connections.
 * SIGINT and SIGTERM (blocked in @stop) are unblocked in the child, which
 * gets SIGTERM when snapctl dies. Returns its pid, or -1 after a message.
 */
static pid_t start_nbdkit(const char *image, const struct export_addr *a,
			  int extents, int ready_fd, const sigset_t *stop)
{
	char pidfile[32], extentlist[48], file[PATH_MAX + 8];
	const char *argv[20];
	pid_t parent = getpid(), pid;
	int n = 0;

	snprintf(pidfile, sizeof(pidfile), "/proc/self/fd/%d", ready_fd);
	snprintf(extentlist, sizeof(extentlist), "extentlist=/proc/self/fd/%d",
		 extents);
	snprintf(file, sizeof(file), "file=%s", image);

	argv[n++] = NBDKIT;
	argv[n++] = "--foreground";
	argv[n++] = "--readonly";
	argv[n++] = "--exit-with-parent";
	argv[n++] = "--pidfile";
	argv[n++] = pidfile;
	if (a->socket) {
		argv[n++] = "--unix";
		argv[n++] = a->socket;
	} else {
		argv[n++] = "--ipaddr";
		argv[n++] = a->addr;
		argv[n++] = "--port";
		argv[n++] = a->port;
	}
	if (extents >= 0)
		argv[n++] = "--filter=extentlist";
	argv[n++] = "file";
	argv[n++] = file;
	if (extents >= 0)
		argv[n++] = extentlist;
	argv[n] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		errx_errno(errno, "cannot start " NBDKIT);
		return -1;
	}
	if (pid)
		return pid;
	/* nbdkit's --exit-with-parent, from before it runs. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(EXIT_FAIL);
	/* A shell without job control ignores them in background jobs. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, stop, NULL);
	execvp(argv[0], (char **)argv);
	errx_errno(errno, NBDKIT ": cannot run it (export needs the nbdkit package)");
	_exit(127);
}

/*
 * Whether the snapshot @ref still has its image and is valid; prints why
 * not. A snapshot deleted and another one given the same image number is
 * told apart by its origin and id.
 */
static bool snap_still_there(int fd, const struct snap_ref *ref)
{
	struct snap_ref now;
	int ret;

	ret = snap_find(fd, ref->info.image_index, &now);
	if (ret == -ENOENT || (!ret && (now.origin != ref->origin ||
					now.info.id != ref->info.id))) {
		errx_errno(0, "%s: the snapshot was deleted: export stopped",
			   ref->image);
		return false;
	}
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, "cannot list snapshots: export stopped");
		return false;
	}
	if (now.info.state & VOLSNAP_SNAP_INVALID) {
		errx_errno(0, "%s: the snapshot became invalid (%s): export stopped",
			   ref->image, snap_reason(&now.info));
		return false;
	}
	return true;
}

/* Describe how nbdkit ended, from its wait status. */
static void nbdkit_ended(int status, bool ready)
{
	const char *when = ready ? "" : " before it was ready";

	if (WIFSIGNALED(status))
		errx_errno(0, NBDKIT " was killed by signal %d%s", WTERMSIG(status),
			   when);
	else if (WEXITSTATUS(status) != 127 || ready)	/* 127: said why */
		errx_errno(0, NBDKIT " exited with status %d%s",
			   WEXITSTATUS(status), when);
}

/* Stop nbdkit (@pid): SIGTERM, then SIGKILL if it does not exit. */
static void stop_nbdkit(pid_t pid)
{
	const struct timespec tick = { 0, EXPORT_POLL_NS };
	int i, status;

	kill(pid, SIGTERM);
	for (i = 0; i < EXPORT_STOP_TICKS; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/*
 * Serve @ref through nbdkit until a signal in @stop, the snapshot's end or
 * nbdkit's; @extents is the extent list's fd or -1, @changed describes it
 * for the ready line (or is %NULL). Returns the exit code.
 */
static int serve(int fd, const struct snap_ref *ref, const struct export_addr *a,
		 int extents, const char *changed, const sigset_t *stop)
{
	const struct timespec tick = { 0, EXPORT_POLL_NS };
	bool ready = false, stopped = false;
	int pipefd[2], sig, status, ret = EXIT_FAIL;
	char buf[32], *uri, *origin;
	pid_t pid, got;

	if (pipe2(pipefd, O_CLOEXEC)) {
		errx_errno(errno, "cannot create a pipe");
		return EXIT_FAIL;
	}
	/* The write end and the extent list are nbdkit's to open. */
	fcntl(pipefd[1], F_SETFD, 0);
	if (extents >= 0)
		fcntl(extents, F_SETFD, 0);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	pid = start_nbdkit(ref->image, a, extents, pipefd[1], stop);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return EXIT_FAIL;
	}
	uri = export_uri(a);

	for (;;) {
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM) {
			stop_nbdkit(pid);
			stopped = true;
			ret = EXIT_OK;
			break;
		}
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid) {
			nbdkit_ended(status, ready);
			break;
		}
		if (!snap_still_there(fd, ref)) {
			stop_nbdkit(pid);
			stopped = true;
			break;
		}
		if (!ready && read(pipefd[0], buf, sizeof(buf)) > 0) {
			ready = true;
			origin = dev_name(ref->origin);
			printf("exporting %s (snapshot %u of %s) at %s%s%s\n",
			       ref->image, ref->info.id, origin, uri,
			       changed ? ", " : "", changed ? changed : "");
			fflush(stdout);
			free(origin);
		}
	}
	/* Stopped as it became ready: the socket is there. */
	if (!ready && read(pipefd[0], buf, sizeof(buf)) > 0)
		ready = true;
	close(pipefd[0]);
	/* nbdkit leaves its socket behind; one it did not make is kept. */
	if (ready && a->socket && unlink(a->socket) && errno != ENOENT)
		errx_errno(errno, "%s: cannot remove the socket", a->socket);
	if (stopped && ret == EXIT_OK)
		printf("stopped exporting %s\n", ref->image);
	free(uri);
	return ret;
}

static int do_export(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen",        required_argument, NULL, 'l' },
		{ "socket",        required_argument, NULL, 'U' },
		{ "changed-since", required_argument, NULL, 'c' },
		{ "help",          no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_addr a = { 0 };
	const char *listen = NULL, *sock = NULL, *since = NULL;
	struct snap_ref ref = { 0 }, from = { 0 };
	char *changed = NULL, *cwd;
	int c, fd, extents = -1, ret;
	struct snap_diff d;
	sigset_t stop;

	while ((c = cmd_getopt(cmd, argc, argv, "l:U:c:", longopts)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 'U')
			sock = optarg;
		else if (c == 'c')
			since = optarg;
	}
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	if (listen && sock)
		return cmd_usage(cmd, "--listen and --socket exclude each other");
	if (sock && !*sock)
		return cmd_usage(cmd, "empty --socket path");
	if (!sock && parse_listen(listen ? listen : "localhost:10809", &a))
		return cmd_usage(cmd, "invalid --listen '%s' (ADDR:PORT, [IPV6]:PORT)",
				 listen);
	if (sock && *sock != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd || asprintf(&a.socket, "%s/%s", cwd, sock) < 0)
			oom();
		free(cwd);
	} else if (sock) {
		a.socket = xstrdup(sock);
	}

	fd = ctl_open();
	if (snap_lookup(fd, argv[optind], &ref)) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (ref.info.state & VOLSNAP_SNAP_INVALID) {
		errx_errno(0, "%s: the snapshot is invalid (%s)", argv[optind],
			   snap_reason(&ref.info));
		ret = EXIT_FAIL;
		goto out;
	}
	if (since) {
		ret = EXIT_FAIL;
		if (snap_lookup(fd, since, &from))
			goto out;
		if (from.origin != ref.origin) {
			errx_errno(0, "%s: not a snapshot of the origin of %s",
				   since, argv[optind]);
			goto out_from;
		}
		if (from.info.id >= ref.info.id) {
			errx_errno(0, "%s: not older than %s", since, argv[optind]);
			goto out_from;
		}
		ret = snap_diff(fd, &from, &ref, &d);
		if (ret) {
			ctl_error(ret, argv[optind], diff_errors,
				  "cannot list the changed chunks");
			ret = EXIT_FAIL;
			goto out_from;
		}
		extents = write_extent_list(&d, d.to_bytes);
		if (extents >= 0 &&
		    asprintf(&changed, "changed since %s: %zu extents, %llu bytes",
			     from.image, d.nr, d.total) < 0)
			oom();
		free(d.ext);
		ret = EXIT_FAIL;
		if (extents < 0)
			goto out_from;
	}

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	ret = serve(fd, &ref, &a, extents, changed, &stop);
	if (extents >= 0)
		close(extents);
	free(changed);
out_from:
	if (since)
		free(from.image);
out:
	free(ref.image);
	close(fd);
	free(a.addr);
	free(a.port);
	free(a.socket);
	return ret;
}

static void export_more_help(FILE *out)
{
	fputs("\n"
	      "Exit status: 0 after SIGINT or SIGTERM (the server stopped);\n"
	      "1 when the snapshot was deleted or became invalid (the server\n"
	      "stopped), when the server could not start or ended by itself,\n"
	      "or the export was refused; 2 for a bad command line.\n", out);
}

const struct command cmd_export = {
	.name = "export",
	.fn = do_export,
	.args = "IMAGE [--listen ADDR:PORT | --socket PATH] [--changed-since FROM]",
	.summary = "serve a snapshot's image read-only over NBD (needs nbdkit)",
	.help =
	"Serve the snapshot image IMAGE (/dev/volsnapN) read-only over NBD\n"
	"with nbdkit, until SIGINT or SIGTERM, or until the snapshot is deleted\n"
	"or becomes invalid. Prints 'exporting IMAGE ... at URI' once clients\n"
	"can connect (nbdcopy URI FILE, nbdinfo URI, qemu-img convert URI ...,\n"
	"nbd-client). The server is stopped within 0.2 s of the snapshot's\n"
	"end; 'snapctl delete --force' deletes a snapshot being read.\n"
	"\n"
	"With --changed-since FROM, an older snapshot of the same origin, the\n"
	"export answers NBD block status (base:allocation): the chunks written\n"
	"between FROM and IMAGE are data, the rest are holes that mean\n"
	"'unchanged since FROM', not zeros; their reads return IMAGE's data.\n"
	"\n"
	"Options:\n"
	"  -l, --listen ADDR:PORT      listen on TCP (default localhost:10809;\n"
	"                              [IPV6]:PORT for IPv6)\n"
	"  -U, --socket PATH           listen on a Unix socket, removed at the end\n"
	"  -c, --changed-since FROM    report what changed since the snapshot\n"
	"                              whose image is FROM\n"
	"  -h, --help                  show this help and exit\n",
	.more_help = export_more_help,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - explicit freeze and thaw
 *
 * A freeze belongs to the control file it was made through: the kernel
 * thaws when that file is closed. So 'snapctl freeze' keeps the file open
 * and waits, watching the origin's state, until the origin is thawed
 * ('snapctl thaw', or the kernel's hold-limit watchdog) or it is told to
 * stop by SIGINT or SIGTERM; exiting closes the file, which thaws.
 *
 * 'snapctl freeze ORIGIN -- COMMAND' runs COMMAND inside the freeze
 * instead, and thaws when it exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapctl.h"

/* How often 'snapctl freeze' looks at the origin's state. */
#define FREEZE_POLL_NS	(100 * 1000 * 1000L)

static const struct errmsg freeze_errors[] = {
	{ ENODEV, "not attached" },
	{ EBUSY, "already frozen" },
	{ ETIMEDOUT, "writes did not drain within the hold limit" },
	{ 0, NULL },
};

static const struct errmsg poll_errors[] = {
	{ ENODEV, "no longer attached" },
	{ 0, NULL },
};

/*
 * Wait while @devno stays frozen, sleeping in sigtimedwait() so that a
 * SIGINT or SIGTERM (blocked by the caller) ends the wait at once.
 * Returns the exit code.
 */
static int wait_thaw(int fd, dev_t devno, const char *origin,
		     const sigset_t *stop)
{
	const struct timespec tick = { 0, FREEZE_POLL_NS };
	struct volsnap_status st;
	int ret;

	for (;;) {
		if (sigtimedwait(stop, NULL, &tick) > 0)
			return EXIT_OK;	/* the caller's close() thaws */
		memset(&st, 0, sizeof(st));
		st.major = major(devno);
		st.minor = minor(devno);
		ret = ctl_ioctl(fd, VOLSNAP_IOC_STATUS, &st);
		if (ret) {
			ctl_error(ret, origin, poll_errors, "cannot get status");
			return EXIT_FAIL;
		}
		if (st.origin.state & VOLSNAP_ORIGIN_FROZEN)
			continue;
		if (st.origin.state & VOLSNAP_ORIGIN_TIMED_OUT) {
			errx_errno(0, "%s: hold limit reached, thawed by the kernel",
				   origin);
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
}

/* Whether @devno's last freeze was ended by the kernel's hold limit. */
static bool kernel_thawed(int fd, dev_t devno)
{
	struct volsnap_status st = { 0 };

	st.major = major(devno);
	st.minor = minor(devno);
	return !ctl_ioctl(fd, VOLSNAP_IOC_STATUS, &st) &&
	       !(st.origin.state & VOLSNAP_ORIGIN_FROZEN) &&
	       (st.origin.state & VOLSNAP_ORIGIN_TIMED_OUT);
}

/*
 * Run @argv inside the freeze of @devno (made through @fd), forwarding
 * SIGINT and SIGTERM (blocked in @stop) to it; thaw when it exits. The
 * exit code is the command's, 128 + N when signal N killed it; 1 for a
 * command that succeeded while the kernel thawed on its own (hold limit).
 */
static int run_frozen(int fd, dev_t devno, const char *origin, char **argv,
		      const sigset_t *stop)
{
	const struct timespec tick = { 0, FREEZE_POLL_NS };
	struct volsnap_origin_cmd oc = { 0 };
	bool timed_out = false;
	int sig, status, ret;
	pid_t pid, got;

	pid = fork();
	if (pid < 0) {
		errx_errno(errno, "%s: cannot start %s", origin, argv[0]);
		return EXIT_FAIL;
	}
	if (!pid) {
		sigprocmask(SIG_UNBLOCK, stop, NULL);
		execvp(argv[0], argv);
		errx_errno(errno, "%s: cannot run it", argv[0]);
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			kill(pid, sig);
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			errx_errno(errno, "%s: waiting for %s", origin, argv[0]);
			return EXIT_FAIL;
		}
		if (!timed_out && kernel_thawed(fd, devno)) {
			errx_errno(0, "%s: hold limit reached while %s runs: "
				   "thawed by the kernel (raise the module parameter "
				   "hold_limit_ms or shorten the command)", origin, argv[0]);
			timed_out = true;
		}
	}

	oc.major = major(devno);
	oc.minor = minor(devno);
	ret = ctl_ioctl(fd, VOLSNAP_IOC_THAW, &oc);
	if (ret == -ETIMEDOUT && !timed_out) {
		errx_errno(0, "%s: hold limit reached while %s ran: thawed by the "
			   "kernel (raise the module parameter hold_limit_ms or "
			   "shorten the command)", origin, argv[0]);
		timed_out = true;
	} else if (ret == -EINVAL && !timed_out) {
		errx_errno(0, "%s: thawed by 'snapctl thaw' before %s ended",
			   origin, argv[0]);
	} else if (ret && ret != -ETIMEDOUT && ret != -EINVAL) {
		ctl_error(ret, origin, NULL, "cannot thaw");
		timed_out = true;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	ret = WEXITSTATUS(status);
	return ret ? ret : timed_out ? EXIT_FAIL : EXIT_OK;
}

static int do_freeze(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_origin_cmd oc = { 0 };
	char **command = NULL;
	sigset_t stop;
	const char *origin;
	int fd, ret, i;
	dev_t devno;
	char *name, why[128];

	/* After "--" comes COMMAND, with options of its own. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			command = argv + i + 1;
			argc = i;
			break;
		}
	}
	if (command && !*command)
		return cmd_usage(cmd, "no COMMAND after '--'");
	while (cmd_getopt(cmd, argc, argv, "", longopts) != -1)
		;
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	origin = argv[optind];
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;
	oc.major = major(devno);
	oc.minor = minor(devno);

	/* Taken by sigtimedwait() in wait_thaw(), from the freeze on. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGCHLD);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_FREEZE, &oc);
	if (ret == -EBUSY && revert_busy(devno, why, sizeof(why))) {
		errx_errno(EBUSY, "%s: %s", origin, why);
		close(fd);
		return EXIT_FAIL;
	}
	if (ret) {
		ctl_error(ret, origin, freeze_errors, "cannot freeze");
		close(fd);
		return EXIT_FAIL;
	}
	if (command) {
		ret = run_frozen(fd, devno, origin, command, &stop);
		close(fd);
		return ret;
	}
	sigdelset(&stop, SIGCHLD);
	name = dev_name(devno);
	printf("frozen %s\n", name);
	fflush(stdout);

	ret = wait_thaw(fd, devno, origin, &stop);
	close(fd);
	if (ret == EXIT_OK)
		printf("thawed %s\n", name);
	free(name);
	return ret;
}

const struct command cmd_freeze = {
	.name = "freeze",
	.fn = do_freeze,
	.args = "ORIGIN [-- COMMAND [ARGS...]]",
	.summary = "freeze ORIGIN until it is thawed, or while COMMAND runs",
	.help =
	"Freeze ORIGIN: its filesystem, if mounted, is synced and frozen and\n"
	"writes are held. Prints 'frozen ORIGIN' and keeps running while ORIGIN\n"
	"is frozen: 'snapctl create ORIGIN --frozen' then takes snapshots inside\n"
	"the freeze. The freeze ends, printing 'thawed ORIGIN', when\n"
	"  - 'snapctl thaw ORIGIN' is run (exit status 0),\n"
	"  - this process gets SIGINT or SIGTERM, or dies (exit status 0),\n"
	"  - the module's hold limit passes: the kernel thaws by itself\n"
	"    (exit status 1).\n"
	"\n"
	"With '-- COMMAND [ARGS...]', runs COMMAND inside the freeze, with\n"
	"snapctl's standard input and output, and thaws when it exits, however\n"
	"it exits; prints nothing itself. SIGINT and SIGTERM are passed on to\n"
	"COMMAND. The exit status is COMMAND's (128 + N when signal N killed\n"
	"it); 1 when COMMAND succeeded but the hold limit passed first, which\n"
	"is reported on standard error. The hold limit still applies.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help and exit\n",
};

static const struct errmsg thaw_errors[] = {
	{ ENODEV, "not attached" },
	{ EINVAL, "not frozen" },
	{ ETIMEDOUT, "hold limit reached, already thawed by the kernel" },
	{ 0, NULL },
};

static int do_thaw(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_origin_cmd oc = { 0 };
	const char *origin;
	int fd, ret;
	dev_t devno;
	char *name;

	while (cmd_getopt(cmd, argc, argv, "", longopts) != -1)
		;
	if (cmd_nargs(cmd, argc, argv, 1, 1))
		return EXIT_USAGE;
	origin = argv[optind];
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;
	oc.major = major(devno);
	oc.minor = minor(devno);

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_THAW, &oc);
	close(fd);
	if (ret) {
		ctl_error(ret, origin, thaw_errors, "cannot thaw");
		return EXIT_FAIL;
	}
	name = dev_name(devno);
	printf("thawed %s\n", name);
	free(name);
	return EXIT_OK;
}

const struct command cmd_thaw = {
	.name = "thaw",
	.fn = do_thaw,
	.args = "ORIGIN",
	.summary = "thaw ORIGIN, frozen by 'snapctl freeze'",
	.help =
	"Thaw ORIGIN, frozen by 'snapctl freeze' (which then exits): held\n"
	"writes proceed and the filesystem is thawed.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help and exit\n",
};

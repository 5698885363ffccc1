// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - events: monitor, and set (an origin's fill threshold)
 *
 * monitor reads struct volsnap_event records from the control device and
 * prints one line, or one JSON object, per event as it comes, flushing
 * each. SIGINT and SIGTERM are blocked and read from a signalfd polled
 * with the control device, so either ends it cleanly whenever it comes.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "snapctl.h"

static_assert(sizeof(struct volsnap_event) == 80, "struct volsnap_event");

static const char *event_name(unsigned int type)
{
	switch (type) {
	case VOLSNAP_EVENT_LOST:
		return "lost";
	case VOLSNAP_EVENT_INVALID:
		return "invalid";
	case VOLSNAP_EVENT_THRESHOLD:
		return "threshold";
	case VOLSNAP_EVENT_HOLD_EXPIRED:
		return "hold-expired";
	case VOLSNAP_EVENT_STORE_GROWN:
		return "store-grown";
	default:
		return "unknown";
	}
}

/* Why a snapshot became invalid, as the events and 'snapctl list' say. */
static const char *invalid_reason(int error)
{
	struct volsnap_snapshot_info si = { .error = error };

	return snap_reason(&si);
}

static void print_json(const struct volsnap_event *ev, const char *origin)
{
	char when[32];

	format_time(ev->time_ns, true, when, sizeof(when));
	printf("{\"seq\":%llu,\"time\":\"%s\",\"time_ns\":%llu,\"event\":\"%s\"",
	       (unsigned long long)ev->seq, when,
	       (unsigned long long)ev->time_ns, event_name(ev->type));
	if (ev->type != VOLSNAP_EVENT_LOST) {
		printf(",\"origin\":");
		json_string(origin);
		printf(",\"major\":%u,\"minor\":%u", ev->major, ev->minor);
	}
	switch (ev->type) {
	case VOLSNAP_EVENT_LOST:
		printf(",\"lost\":%llu", (unsigned long long)ev->count);
		break;
	case VOLSNAP_EVENT_INVALID:
		printf(",\"snapshot\":%u,\"device\":\"/dev/volsnap%u\","
		       "\"error\":%d,\"errno\":\"%s\",\"reason\":",
		       ev->snapshot_id, ev->image_index, ev->error,
		       errno_name(-ev->error));
		json_string(invalid_reason(ev->error));
		break;
	case VOLSNAP_EVENT_THRESHOLD:
		printf(",\"threshold\":%u,\"used_chunks\":%llu,\"store_chunks\":%llu",
		       ev->threshold, (unsigned long long)ev->count,
		       (unsigned long long)ev->total);
		break;
	case VOLSNAP_EVENT_HOLD_EXPIRED:
		printf(",\"hold_limit_ms\":%llu", (unsigned long long)ev->count);
		break;
	default:
		printf(",\"type\":%u", ev->type);
		break;
	}
	printf("}\n");
}

static void print_text(const struct volsnap_event *ev, const char *origin)
{
	char when[32];

	format_time(ev->time_ns, false, when, sizeof(when));
	printf("%s #%llu %s", when, (unsigned long long)ev->seq,
	       event_name(ev->type));
	switch (ev->type) {
	case VOLSNAP_EVENT_LOST:
		printf(": %llu events missed (read too slowly)\n",
		       (unsigned long long)ev->count);
		break;
	case VOLSNAP_EVENT_INVALID:
		printf(" %s: snapshot %u (/dev/volsnap%u) is invalid: %s (%s)\n",
		       origin, ev->snapshot_id, ev->image_index,
		       invalid_reason(ev->error), errno_name(-ev->error));
		break;
	case VOLSNAP_EVENT_THRESHOLD:
		printf(" %s: store %u%% full: %llu of %llu chunks in use\n",
		       origin, ev->threshold, (unsigned long long)ev->count,
		       (unsigned long long)ev->total);
		break;
	case VOLSNAP_EVENT_HOLD_EXPIRED:
		printf(" %s: writes held for the hold limit (%llu ms): thawed, "
		       "snapshot failed\n", origin, (unsigned long long)ev->count);
		break;
	default:
		printf(" %s: event type %u\n", origin, ev->type);
		break;
	}
}

static void print_event(const struct volsnap_event *ev)
{
	char *origin = dev_name(makedev(ev->major, ev->minor));

	if (opts.json)
		print_json(ev, origin);
	else
		print_text(ev, origin);
	free(origin);
	fflush(stdout);
}

static int do_monitor(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",  no_argument,       NULL, 'J' },
		{ "count", required_argument, NULL, 'c' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_event evs[16];
	unsigned long count = 0, seen = 0;
	struct pollfd pfd[2];
	sigset_t sigs;
	char *end;
	ssize_t n;
	int c, fd, sfd, ret = EXIT_OK;

	while ((c = cmd_getopt(cmd, argc, argv, "Jc:", longopts)) != -1) {
		switch (c) {
		case 'J':
			opts.json = true;
			break;
		case 'c':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !count ||
			    optarg[0] == '-')
				return cmd_usage(cmd, "invalid count '%s': need a "
						 "positive number", optarg);
			break;
		}
	}
	if (cmd_nargs(cmd, argc, argv, 0, 0))
		return EXIT_USAGE;

	/* Even when started with them ignored (a shell's background job). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		errx_errno(errno, "signalfd");
		return EXIT_FAIL;
	}
	fd = open(CTL_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		close(sfd);
		return ctl_open_error(errno);
	}
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			errx_errno(errno, "%s: poll", CTL_PATH);
			ret = EXIT_FAIL;
			break;
		}
		if (pfd[1].revents)
			break;		/* SIGINT or SIGTERM: done */
		n = read(fd, evs, sizeof(evs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ctl_error(errno, CTL_PATH, NULL, "cannot read events");
			ret = EXIT_FAIL;
			break;
		}
		for (c = 0; c < n / (ssize_t)sizeof(evs[0]); c++) {
			print_event(&evs[c]);
			if (count && ++seen == count)
				goto out;
		}
		if (ferror(stdout))
			break;	/* main() reports it */
	}
out:
	close(fd);
	close(sfd);
	return ret;
}

const struct command cmd_monitor = {
	.name = "monitor",
	.fn = do_monitor,
	.args = "[--json] [--count N]",
	.summary = "print the module's events as they happen",
	.help =
	"Print an event of the volsnap module, one line each, as it happens:\n"
	"  invalid       a snapshot became invalid (store full, I/O error while\n"
	"                copying, origin shrank, partitions added, origin or\n"
	"                store removed)\n"
	"  threshold     an origin's store filled up to its threshold (default\n"
	"                80%; 'snapctl set ORIGIN threshold=PCT')\n"
	"  hold-expired  an origin's writes were held for the hold limit: the\n"
	"                kernel thawed it and the snapshot failed\n"
	"  lost          events this monitor missed because it read too slowly\n"
	"Events from the moment it starts; runs until SIGINT or SIGTERM (exit 0).\n"
	"The same events reach udev as change uevents of the origin device\n"
	"(VOLSNAP_EVENT=...).\n"
	"\n"
	"Options:\n"
	"  -J, --json      one JSON object per line\n"
	"  -c, --count N   exit after N events\n"
	"  -h, --help      show this help and exit\n",
};

static const struct errmsg set_errors[] = {
	{ ENODEV, "not attached" },
	{ 0, NULL },
};

/* "off", "none" or a percentage from 0 to 100 (a trailing % allowed). */
static int parse_percent(const char *s, unsigned int *pct)
{
	unsigned long v;
	char *end;

	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		*pct = 0;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end == '%')
		end++;
	if (errno || end == s || *end || v > 100 || s[0] == '-')
		return -1;
	*pct = v;
	return 0;
}

/**
 * origin_set_threshold() - set an origin's store fill threshold
 * @fd: the control device.
 * @devno: the origin.
 * @pct: percent, 0 for none.
 *
 * Return: 0 or -errno of %VOLSNAP_IOC_ORIGIN_SET.
 */
int origin_set_threshold(int fd, dev_t devno, unsigned int pct)
{
	struct volsnap_origin_set set = {
		.flags = VOLSNAP_ORIGIN_SET_THRESHOLD,
		.major = major(devno),
		.minor = minor(devno),
		.threshold = pct,
	};

	return ctl_ioctl(fd, VOLSNAP_IOC_ORIGIN_SET, &set);
}

/**
 * threshold_arg() - parse a threshold given on the command line
 * @cmd: the command, for the usage message.
 * @s: the value.
 * @pct: out: percent, 0 for none.
 *
 * Return: 0, or %EXIT_USAGE after a message.
 */
int threshold_arg(const struct command *cmd, const char *s, unsigned int *pct)
{
	if (parse_percent(s, pct))
		return cmd_usage(cmd, "invalid threshold '%s': need a percentage "
				 "from 0 to 100, or off", s);
	return 0;
}

static int do_set(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *origin, *val;
	unsigned int pct = 0;
	bool have = false;
	int c, fd, ret, i;
	dev_t devno;
	char *name;

	while ((c = cmd_getopt(cmd, argc, argv, "", longopts)) != -1)
		;
	if (cmd_nargs(cmd, argc, argv, 2, INT_MAX))
		return EXIT_USAGE;
	origin = argv[optind];
	for (i = optind + 1; i < argc; i++) {
		if (strncmp(argv[i], "threshold=", 10))
			return cmd_usage(cmd, "unknown setting '%s' (known: "
					 "threshold=PCT)", argv[i]);
		val = argv[i] + 10;
		if (threshold_arg(cmd, val, &pct))
			return EXIT_USAGE;
		have = true;
	}
	if (!have)
		return cmd_usage(cmd, "nothing to set");
	if (dev_lookup(origin, &devno))
		return EXIT_FAIL;

	fd = ctl_open();
	ret = origin_set_threshold(fd, devno, pct);
	close(fd);
	if (ret) {
		ctl_error(ret, origin, set_errors, "cannot change its settings");
		return EXIT_FAIL;
	}
	name = dev_name(devno);
	if (pct)
		printf("%s: store fill threshold %u%%\n", name, pct);
	else
		printf("%s: no store fill threshold\n", name);
	free(name);
	return EXIT_OK;
}

const struct command cmd_set = {
	.name = "set",
	.fn = do_set,
	.args = "ORIGIN threshold=PCT",
	.summary = "change settings of an attached ORIGIN",
	.help =
	"Change settings of an attached ORIGIN. Known settings:\n"
	"  threshold=PCT   the store fill level, 1 to 100 percent, at which a\n"
	"                  threshold event is sent ('snapctl monitor'); 0 or\n"
	"                  off for none. Default 80 at attach. A threshold at\n"
	"                  or below the store's current use is reported at\n"
	"                  once; afterwards once per rise, re-armed when use\n"
	"                  falls below it. 'snapctl status -o +THRESHOLD'\n"
	"                  shows it.\n"
	"\n"
	"Options:\n"
	"  -h, --help      show this help and exit\n",
};

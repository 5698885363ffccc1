// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - drive the volsnap kernel module
 *
 * snapctl [global options] COMMAND [options] [ARGS]
 *
 * Commands are dispatched from one table; each handler parses its own
 * options with getopt_long. Errors name the object, the reason and the
 * errno name, and map to the documented exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "snapctl.h"

#ifndef SNAPCTL_VERSION
#define SNAPCTL_VERSION "unknown"
#endif

struct global_opts opts;
const char *prog = "snapctl";

static const char ctl_path[] = "/dev/" VOLSNAP_CTL_NAME;

const char *errno_name(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ ENXIO, "ENXIO" }, { EBADF, "EBADF" }, { EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" }, { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" },
		{ EROFS, "EROFS" }, { ENOTTY, "ENOTTY" }, { ENOTBLK, "ENOTBLK" },
		{ ERANGE, "ERANGE" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EALREADY, "EALREADY" },
		{ ESTALE, "ESTALE" }, { EINTR, "EINTR" }, { E2BIG, "E2BIG" },
		{ EOVERFLOW, "EOVERFLOW" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

/* Print "snapctl: <message>: <strerror> (<ERRNO>)" to stderr. */
void errx_errno(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s (%s)", strerror(err), errno_name(err));
	fputc('\n', stderr);
}

/* Open the control device, or explain why it cannot be opened and exit. */
int ctl_open(void)
{
	int fd = open(ctl_path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV) {
		errx_errno(errno, "%s (is the volsnap module loaded?)", ctl_path);
		exit(EXIT_NOMOD);
	}
	errx_errno(errno, "%s", ctl_path);
	exit(EXIT_FAIL);
}

/* ioctl that reports a failure as "<what>: reason (ERRNO)"; returns -errno. */
int ctl_ioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg) == 0)
		return 0;
	errx_errno(errno, "%s", what);
	return -errno;
}

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

/* Names of the VOLSNAP_FEAT_* bits, in bit order. */
static const char *const feature_names[64];

static int cmd_version(int argc, char **argv)
{
	struct volsnap_features f = { 0 };
	bool first = true;
	int fd, ret, bit;

	(void)argc;
	(void)argv;
	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_FEATURES, &f, ctl_path);
	close(fd);
	if (ret)
		return EXIT_FAIL;
	f.version[sizeof(f.version) - 1] = '\0';

	if (opts.json) {
		printf("{\"snapctl\": ");
		json_string(SNAPCTL_VERSION);
		printf(", \"module\": ");
		json_string(f.version);
		printf(", \"features\": [");
		for (bit = 0; bit < 64; bit++) {
			if (!(f.features & (1ULL << bit)))
				continue;
			printf("%s", first ? "" : ", ");
			if (feature_names[bit])
				json_string(feature_names[bit]);
			else
				printf("\"bit%d\"", bit);
			first = false;
		}
		printf("]}\n");
		return EXIT_OK;
	}

	printf("snapctl %s\nmodule  %s\nfeatures", SNAPCTL_VERSION, f.version);
	for (bit = 0; bit < 64; bit++) {
		if (!(f.features & (1ULL << bit)))
			continue;
		if (feature_names[bit])
			printf(" %s", feature_names[bit]);
		else
			printf(" bit%d", bit);
		first = false;
	}
	printf("%s\n", first ? " (none)" : "");
	return EXIT_OK;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	int min_args, max_args;
	const char *args;
	const char *help;
};

static const struct command commands[] = {
	{ "version", cmd_version, 0, 0, "",
	  "print the versions of snapctl and of the loaded module, and its features" },
};

static const char help_head[] =
	"Usage: snapctl [options] COMMAND [ARGS]\n"
	"\n"
	"Copy-on-write snapshots of live block devices.\n"
	"\n"
	"Commands:\n";

static const char help_tail[] =
	"\n"
	"Options:\n"
	"  -J, --json     machine-readable JSON output\n"
	"  -h, --help     show this help and exit\n"
	"  -V, --version  show snapctl's version and exit\n"
	"\n"
	"Exit status: 0 success, 1 operation failed, 2 bad command line,\n"
	"3 the volsnap module is not loaded.\n";

static void print_help(FILE *out)
{
	size_t i;

	fputs(help_head, out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %-24s %s\n", commands[i].name,
			commands[i].args, commands[i].help);
	fputs(help_tail, out);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",    no_argument, NULL, 'J' },
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	int c, nargs;
	size_t i;

	/* Stop at the first non-option: that is the command. */
	while ((c = getopt_long(argc, argv, "+JhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			opts.json = true;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		case 'V':
			printf("snapctl %s\n", SNAPCTL_VERSION);
			return EXIT_OK;
		default:
			print_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n",
			prog, argv[optind], prog);
		return EXIT_USAGE;
	}

	argc -= optind;
	argv += optind;
	nargs = argc - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "%s: usage: %s %s %s\n", prog, prog, cmd->name,
			cmd->args);
		return EXIT_USAGE;
	}
	return cmd->fn(argc, argv);
}

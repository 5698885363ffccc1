// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - drive the volsnap kernel module
 *
 * snapctl [global options] COMMAND [options] [ARGS]
 *
 * Commands are dispatched from one table; each handler parses its own
 * options with cmd_getopt() (getopt_long, so options may follow the
 * arguments) and checks its argument count with cmd_nargs(). Errors name
 * the object, the reason and the errno name, and map to the documented exit
 * codes. Results go to stdout, messages to stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "snapctl.h"

struct global_opts opts;
const char *prog = "snapctl";
const char *cmd_name;

static const struct command *const commands[] = {
	&cmd_attach,
	&cmd_detach,
	&cmd_create,
	&cmd_delete,
	&cmd_freeze,
	&cmd_thaw,
	&cmd_export,
	&cmd_list,
	&cmd_status,
	&cmd_diff,
	&cmd_clone,
	&cmd_verify,
	&cmd_revert,
	&cmd_writable,
	&cmd_backup_complete,
	&cmd_set,
	&cmd_monitor,
	&cmd_version,
};

static const char help_head[] =
	"Usage: snapctl [options] COMMAND [command options] [ARGS]\n"
	"\n"
	"Copy-on-write snapshots of live block devices.\n"
	"\n"
	"Commands:\n";

static const char help_tail[] =
	"\n"
	"ORIGIN and STORE are block devices; ID is a snapshot id as shown by\n"
	"'snapctl list'. Command options may also follow the arguments.\n"
	"Run 'snapctl COMMAND --help' for the options of one command.\n"
	"\n"
	"Options:\n"
	"  -J, --json        JSON output (create, list, status, diff, clone,\n"
	"                    verify, monitor, version)\n"
	"  -r, --raw         raw tables (list, status)\n"
	"  -n, --noheadings  tables without a header line (list, status)\n"
	"  -b, --bytes       sizes in bytes (list, status)\n"
	"  -h, --help        show this help and exit\n"
	"  -V, --version     show the versions of snapctl and of the loaded\n"
	"                    module, and exit\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  the operation failed\n"
	"  2  bad command line\n"
	"  3  the volsnap module is not loaded (no /dev/" VOLSNAP_CTL_NAME ")\n";

static void print_help(FILE *out)
{
	size_t i;

	fputs(help_head, out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s%s%s\n        %s\n", commands[i]->name,
			*commands[i]->args ? " " : "", commands[i]->args,
			commands[i]->summary);
	fputs(help_tail, out);
}

/* Print COMMAND's own help and exit. */
static void __noreturn cmd_help(const struct command *cmd)
{
	printf("Usage: %s %s%s%s\n\n%s", prog, cmd->name,
	       *cmd->args ? " " : "", cmd->args, cmd->help);
	if (cmd->more_help)
		cmd->more_help(stdout);
	exit(fflush(stdout) ? EXIT_FAIL : EXIT_OK);
}

/**
 * cmd_usage() - report a bad command line
 * @cmd: the command.
 * @fmt: what is wrong, or NULL.
 *
 * Return: %EXIT_USAGE, for the handler to return.
 */
int cmd_usage(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: %s: ", prog, cmd->name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Usage: %s %s%s%s\nTry '%s %s --help' for more information.\n",
		prog, cmd->name, *cmd->args ? " " : "", cmd->args, prog,
		cmd->name);
	return EXIT_USAGE;
}

/* The long options of every listing command, for cmd_getopt(). */
const struct option listing_longopts[] = {
	{ "json",       no_argument,       NULL, 'J' },
	{ "raw",        no_argument,       NULL, 'r' },
	{ "noheadings", no_argument,       NULL, 'n' },
	{ "bytes",      no_argument,       NULL, 'b' },
	{ "output",     required_argument, NULL, 'o' },
	{ "help",       no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/**
 * listing_option() - handle an option every listing command takes
 * @cmd: the command.
 * @l: its listing.
 * @c: the option, from cmd_getopt().
 *
 * Return: 0 when @c was one of LISTING_SHORTOPTS, 1 when it was not; a bad
 * -o column list exits with %EXIT_USAGE.
 */
int listing_option(const struct command *cmd, const struct listing *l, int c)
{
	switch (c) {
	case 'J':
		opts.json = true;
		return 0;
	case 'r':
		opts.raw = true;
		return 0;
	case 'n':
		opts.noheadings = true;
		return 0;
	case 'b':
		opts.bytes = true;
		return 0;
	case 'o':
		if (output_set_columns(l, optarg))
			exit(cmd_usage(cmd, NULL));
		return 0;
	}
	return 1;
}

/* Explain why getopt_long() returned '?'; @arg is argv[optind - 1]. */
static void bad_option(const char *arg)
{
	size_t len = strcspn(arg, "=");

	fprintf(stderr, "%s: ", prog);
	if (!strncmp(arg, "--", 2) && arg[len] == '=' && optopt)
		fprintf(stderr, "option '%.*s' takes no argument\n", (int)len, arg);
	else if (optopt)
		fprintf(stderr, "unknown option '-%c'\n", optopt);
	else
		fprintf(stderr, "unknown option '%s'\n", arg);
}

/**
 * cmd_getopt() - getopt_long for a command's options
 * @cmd: the command.
 * @argc: argument count, from the command name on.
 * @argv: arguments, argv[0] the command name.
 * @shortopts: its short options, without 'h'.
 * @longopts: its long options; "help" is handled here.
 *
 * Options and arguments may come in any order. -h/--help prints the
 * command's help and exits 0; an unknown option or a missing option
 * argument is reported and exits 2.
 *
 * Return: the next option character, or -1 when there are no more; the
 * arguments are then at argv[optind..argc-1].
 */
int cmd_getopt(const struct command *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts)
{
	char optstring[32];
	int c;

	snprintf(optstring, sizeof(optstring), ":h%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, optstring, longopts, NULL);
	switch (c) {
	case 'h':
		cmd_help(cmd);
	case ':':
		exit(cmd_usage(cmd, "option '%s' needs an argument",
			       argv[optind - 1]));
	case '?':
		bad_option(argv[optind - 1]);
		exit(cmd_usage(cmd, NULL));
	}
	return c;
}

/**
 * cmd_nargs() - check the number of arguments left after the options
 * @cmd: the command.
 * @argc: argument count, from the command name on.
 * @argv: arguments, after cmd_getopt() returned -1.
 * @min: fewest arguments.
 * @max: most arguments.
 *
 * Return: 0 when the count fits, else %EXIT_USAGE after a message.
 */
int cmd_nargs(const struct command *cmd, int argc, char **argv,
	      int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return cmd_usage(cmd, "missing argument");
	if (n > max)
		return cmd_usage(cmd, "unexpected argument '%s'",
				 argv[optind + max]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",       no_argument, NULL, 'J' },
		{ "raw",        no_argument, NULL, 'r' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "bytes",      no_argument, NULL, 'b' },
		{ "help",       no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	int c, ret;
	size_t i;

	/* Stop at the first non-option: that is the command. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+JrnbhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			opts.json = true;
			break;
		case 'r':
			opts.raw = true;
			break;
		case 'n':
			opts.noheadings = true;
			break;
		case 'b':
			opts.bytes = true;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		case 'V':
			print_versions();
			return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
		default:
			bad_option(argv[optind - 1]);
			fprintf(stderr, "Try '%s --help' for more information.\n",
				prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i]->name))
			cmd = commands[i];
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n",
			prog, argv[optind], prog);
		return EXIT_USAGE;
	}

	/* The command parses from its name on; optind 0 resets getopt. */
	argc -= optind;
	argv += optind;
	optind = 0;
	cmd_name = cmd->name;
	ret = cmd->fn(cmd, argc, argv);

	if (fflush(stdout) || ferror(stdout)) {
		errx_errno(errno, "write error");
		return EXIT_FAIL;
	}
	return ret;
}

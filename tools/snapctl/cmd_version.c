// SPDX-License-Identifier: GPL-2.0
/*
 * snapctl - version: what snapctl and the loaded module are
 */
#include <unistd.h>

#include "snapctl.h"

#ifndef SNAPCTL_VERSION
#define SNAPCTL_VERSION "unknown"
#endif

/* Names of the VOLSNAP_FEAT_* bits, in bit order. */
static const char *const feature_names[64] = {
	[0] = "attach",		/* VOLSNAP_FEAT_ATTACH */
	[1] = "snapshot",	/* VOLSNAP_FEAT_SNAPSHOT */
	[2] = "freeze",		/* VOLSNAP_FEAT_FREEZE */
	[3] = "set",		/* VOLSNAP_FEAT_SET */
};

static void print_feature(int bit)
{
	if (!opts.json)
		putchar(' ');
	if (feature_names[bit] && opts.json)
		json_string(feature_names[bit]);
	else if (feature_names[bit])
		fputs(feature_names[bit], stdout);
	else
		printf(opts.json ? "\"bit%d\"" : "bit%d", bit);
}

static int do_version(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct volsnap_features f = { 0 };
	bool first = true;
	int fd, ret, bit;

	while (cmd_getopt(cmd, argc, argv, "J", longopts) != -1)
		opts.json = true;
	if (cmd_nargs(cmd, argc, argv, 0, 0))
		return EXIT_USAGE;

	fd = ctl_open();
	ret = ctl_ioctl(fd, VOLSNAP_IOC_FEATURES, &f);
	close(fd);
	if (ret) {
		ctl_error(ret, CTL_PATH, NULL, NULL);
		return EXIT_FAIL;
	}
	f.version[sizeof(f.version) - 1] = '\0';

	if (opts.json) {
		printf("{\"snapctl\": ");
		json_string(SNAPCTL_VERSION);
		printf(", \"module\": ");
		json_string(f.version);
		printf(", \"features\": [");
	} else {
		printf("snapctl %s\nmodule  %s\nfeatures", SNAPCTL_VERSION,
		       f.version);
	}
	for (bit = 0; bit < 64; bit++) {
		if (!(f.features & (1ULL << bit)))
			continue;
		if (opts.json && !first)
			fputs(", ", stdout);
		print_feature(bit);
		first = false;
	}
	if (opts.json)
		puts("]}");
	else
		puts(first ? " (none)" : "");
	return EXIT_OK;
}

const struct command cmd_version = {
	.name = "version",
	.fn = do_version,
	.args = "",
	.summary = "show the versions of snapctl and of the module, and its features",
	.help =
	"Show the versions of snapctl and of the loaded module, and the\n"
	"features the module implements (attach, snapshot, freeze).\n"
	"\n"
	"Options:\n"
	"  -J, --json   JSON output\n"
	"  -h, --help   show this help and exit\n",
};

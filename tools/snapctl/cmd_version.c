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
	[4] = "diff",		/* VOLSNAP_FEAT_DIFF */
	[5] = "revert",		/* VOLSNAP_FEAT_REVERT */
	[6] = "writable",	/* VOLSNAP_FEAT_WRITABLE */
	[7] = "file-store",	/* VOLSNAP_FEAT_FILE_STORE */
	[8] = "events",		/* VOLSNAP_FEAT_EVENTS */
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

/*
 * The loaded module's version and features: 0, or -errno; -ENOENT (or
 * -ENXIO, -ENODEV) when it is not loaded.
 */
static int module_features(struct volsnap_features *f)
{
	int fd = ctl_try_open();
	int ret;

	if (fd < 0)
		return fd;
	ret = ctl_ioctl(fd, VOLSNAP_IOC_FEATURES, f);
	close(fd);
	f->version[sizeof(f->version) - 1] = '\0';
	return ret;
}

/* snapctl -V: snapctl's version, and the module's when it is loaded. */
void print_versions(void)
{
	struct volsnap_features f = { 0 };

	printf("snapctl %s\n", SNAPCTL_VERSION);
	if (!module_features(&f))
		printf("module  %s\n", f.version);
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
	int ret, bit;

	while (cmd_getopt(cmd, argc, argv, "J", longopts) != -1)
		opts.json = true;
	if (cmd_nargs(cmd, argc, argv, 0, 0))
		return EXIT_USAGE;

	/* snapctl's own version, whether or not the module is there. */
	ret = module_features(&f);
	if (opts.json) {
		printf("{\"snapctl\": ");
		json_string(SNAPCTL_VERSION);
		printf(", \"module\": ");
		if (ret)
			fputs("null", stdout);
		else
			json_string(f.version);
		printf(", \"features\": [");
	} else {
		printf("snapctl %s\n", SNAPCTL_VERSION);
		if (!ret)
			printf("module  %s\nfeatures", f.version);
	}
	for (bit = 0; !ret && bit < 64; bit++) {
		if (!(f.features & (1ULL << bit)))
			continue;
		if (opts.json && !first)
			fputs(", ", stdout);
		print_feature(bit);
		first = false;
	}
	if (opts.json)
		puts("]}");
	else if (!ret)
		puts(first ? " (none)" : "");
	if (ret) {
		fflush(stdout);
		return ctl_open_error(-ret);
	}
	return EXIT_OK;
}

const struct command cmd_version = {
	.name = "version",
	.fn = do_version,
	.args = "",
	.summary = "show the versions of snapctl and of the module, and its features",
	.help =
	"Show the versions of snapctl and of the loaded module, and the\n"
	"features the module implements (attach, snapshot, freeze). snapctl's\n"
	"version is shown also when the module is not loaded (exit status 3;\n"
	"in JSON, \"module\" is null and \"features\" empty).\n"
	"\n"
	"Options:\n"
	"  -J, --json   JSON output\n"
	"  -h, --help   show this help and exit\n",
};

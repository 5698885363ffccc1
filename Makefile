# SPDX-License-Identifier: GPL-2.0
#
# volsnap top-level build.
#
#   make                 module for the newest installed Debian kernel + tools
#   make KVER=6.1.0-50-amd64        ... for that kernel (/lib/modules/KVER/build)
#   make KDIR=/path/to/tree         ... for any prepared kernel tree
#   make test            the whole suite in QEMU on 6.1, 6.12 and the debug kernel
#   make demo            boot a VM and show volsnap at work
#   make check           static checks (W=1, sparse, checkpatch, kernel-doc, ...)
#   make install         snapctl, its man page, bash completion and udev rule, the UAPI header,
#                        the writers (tools/writers, to enable in /etc/volsnap/writers.d)
#                        (PREFIX=/usr/local, DESTDIR=; Documentation/volsnap.rst,
#                        "Installing"); make uninstall removes them
#   make modules_install the module, through Kbuild (KVER=/KDIR= as above,
#                        INSTALL_MOD_PATH=)
#   make deb             Debian packages snapctl and volsnap-dkms (DKMS builds the
#                        module for each kernel), with dpkg-buildpackage on a copy
#                        of the tree; the .debs, .changes and build log go to
#                        build/deb/ (Documentation/volsnap.rst, "Installing")
#   make bench           boot a VM and benchmark volsnap against the raw disk and
#                        dm-snapshot (tests/bench/run; results in bench-out/DATE/)
#   make bench-restore   boot a VM and time snapctl clone, clone --incremental,
#                        export + nbdcopy and revert against dd (tests/bench/restore;
#                        results in bench-out/restore-DATE/)
#   make soak            boot a VM for 30 minutes of I/O with verification and
#                        snapshot churn (tests/soak/run; Documentation/soak/DATE-Nmin.md)
#
# The module is built in a per-kernel directory under build/, so one tree
# serves several kernels without rebuilds stepping on each other.

VERSION := 0.1.0

# Never `uname -r`: the machine that builds is not the one that runs it.
KVER ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)
KDIR ?= /lib/modules/$(KVER)/build
KNAME ?= $(or $(KVER),$(notdir $(abspath $(KDIR))))
KOUT ?= $(CURDIR)/build/$(KNAME)

# The user's CC, CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS are honoured; the
# project's own flags are kept apart (VS_*) so that `make CFLAGS="-O2 -g"`
# still finds its headers. WERROR=1 turns warnings into errors, as the
# project's own checks build (tests/static/check.sh, tests/vm/vmtest.py).
CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= 0
PKG_CONFIG ?= pkg-config
RST2MAN ?= rst2man
# snapctl's libraries, from util-linux (pkg-config names)
PKGS := smartcols mount blkid
ifneq ($(PKGS),)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
endif
VS_CPPFLAGS := -I$(CURDIR)/uapi -DSNAPCTL_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
VS_CFLAGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)

# make install: GNU directory variables; DESTDIR is prefixed to each.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
INCLUDEDIR ?= $(PREFIX)/include
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
WRITERSDIR ?= $(PREFIX)/lib/volsnap/writers
WRITERS := $(wildcard tools/writers/*)
INSTALL ?= install
MAN_PAGE := build/man/snapctl.8

KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild
UAPI_HDRS := $(wildcard uapi/linux/*.h)

.PHONY: all module tools man tests clean test demo check deps bench bench-restore soak \
	install uninstall modules_install deb

all: module tools

module: $(KOUT)/kmod/volsnap.ko

$(KOUT)/kmod/volsnap.ko: $(KMOD_SRCS) $(UAPI_HDRS)
	@test -f $(KDIR)/Makefile || { echo "no kernel tree at $(KDIR) (set KVER= or KDIR=; tests/vm/deps.sh unpacks Debian's into its cache: Documentation/testing.rst)"; exit 1; }
	@mkdir -p $(KOUT)/kmod $(KOUT)/uapi/linux
	@cp -p $(KMOD_SRCS) $(KOUT)/kmod/
	@cp -p $(UAPI_HDRS) $(KOUT)/uapi/linux/
	$(MAKE) -C $(KDIR) M=$(KOUT)/kmod VOLSNAP_VERSION=$(VERSION) $(KBUILD_ARGS) modules

# Kbuild's own modules_install: $(INSTALL_MOD_PATH)/lib/modules/KVER/extra/ on 6.1,
# .../updates/ on 6.12 (INSTALL_MOD_DIR= chooses), then depmod if the tree has
# a System.map.
modules_install: module
	$(MAKE) -C $(KDIR) M=$(KOUT)/kmod VOLSNAP_VERSION=$(VERSION) $(KBUILD_ARGS) modules_install

tools: tools/snapctl/snapctl

tools/snapctl/snapctl: $(wildcard tools/snapctl/*.c tools/snapctl/*.h) $(UAPI_HDRS)
	$(CC) $(VS_CPPFLAGS) $(CPPFLAGS) $(VS_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		-o $@ $(filter %.c,$^) $(PKG_LIBS) $(LDLIBS)

man: $(MAN_PAGE)

# The page's date: SOURCE_DATE_EPOCH when set (reproducible builds), else
# the date of the last commit, else the date of the source; never today.
MAN_EPOCH = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell stat -c %Y Documentation/snapctl.rst))
MAN_DATE = $(shell date -u -d @$(MAN_EPOCH) +%Y-%m-%d)

$(MAN_PAGE): Documentation/snapctl.rst Makefile
	@mkdir -p $(dir $@)
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@DATE@/$(MAN_DATE)/' $< > $@.rst
	$(RST2MAN) --strict $@.rst > $@.tmp && mv $@.tmp $@ && rm -f $@.rst

# The installed files are listed in Documentation/volsnap.rst, "Installing";
# tests/static/check.sh compares that list with what this installs.
install: tools man
	$(INSTALL) -D -m 755 tools/snapctl/snapctl $(DESTDIR)$(SBINDIR)/snapctl
	$(INSTALL) -D -m 644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man8/snapctl.8
	$(INSTALL) -D -m 644 uapi/linux/volsnap.h $(DESTDIR)$(INCLUDEDIR)/linux/volsnap.h
	$(INSTALL) -D -m 644 tools/snapctl/snapctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/snapctl
	$(INSTALL) -D -m 644 tools/udev/60-volsnap.rules $(DESTDIR)$(UDEVRULESDIR)/60-volsnap.rules
	$(INSTALL) -d $(DESTDIR)$(WRITERSDIR)
	$(INSTALL) -m 755 $(WRITERS) $(DESTDIR)$(WRITERSDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/snapctl $(DESTDIR)$(MANDIR)/man8/snapctl.8 \
		$(DESTDIR)$(INCLUDEDIR)/linux/volsnap.h $(DESTDIR)$(BASHCOMPDIR)/snapctl \
		$(DESTDIR)$(UDEVRULESDIR)/60-volsnap.rules \
		$(addprefix $(DESTDIR)$(WRITERSDIR)/,$(notdir $(WRITERS)))
	-rmdir $(DESTDIR)$(WRITERSDIR) $(DESTDIR)$(dir $(WRITERSDIR)) 2> /dev/null

# dpkg-buildpackage writes beside the source tree and cleans it: it works
# on a copy (the files git knows, committed or not, or all but build/ outside
# git) in a temporary directory. MAKEFLAGS would carry this make's command
# line variables (CFLAGS=...) over dpkg-buildflags' into debian/rules.
DEBOUT := build/deb
deb:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	src=$$tmp/volsnap-$(VERSION); mkdir -p "$$src"; \
	if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then \
		git ls-files -co --exclude-standard -z | xargs -0 sh -c \
			'for f; do [ ! -f "$$f" ] || cp -P --parents "$$f" "$$0"; done' "$$src"; \
	else \
		tar -cf - --exclude=./build . | tar -xf - -C "$$src"; \
	fi; \
	rm -rf $(DEBOUT); mkdir -p $(DEBOUT); \
	echo "dpkg-buildpackage -us -uc -b in $$src (log: $(DEBOUT)/build.log)"; \
	(cd "$$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		dpkg-buildpackage -us -uc -b) > $(DEBOUT)/build.log 2>&1 || \
		{ tail -n 40 $(DEBOUT)/build.log; echo "make deb: failed, see $(DEBOUT)/build.log"; exit 1; }; \
	cp "$$tmp"/*.deb "$$tmp"/*.changes "$$tmp"/*.buildinfo $(DEBOUT)/; \
	echo "packages in $(DEBOUT)/:"; ls -1 $(DEBOUT)/*.deb | sed 's/^/  /'

tests:
	$(MAKE) -C tests

deps:
	tests/vm/deps.sh

test:
	tests/run

demo:
	tests/demo

check:
	tests/static/check.sh

bench:
	tests/bench/run

bench-restore:
	tests/bench/restore

soak:
	tests/soak/run

clean:
	rm -rf build tools/snapctl/snapctl

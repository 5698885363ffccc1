#!/bin/bash
# Shared helpers for the VM test scripts: cache location and a private apt
# configuration derived from the system's own Debian sources file.
# shellcheck disable=SC2034  # variables are used by the scripts sourcing this

VOLSNAP_CACHE=${VOLSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/volsnap}
mkdir -p "$VOLSNAP_CACHE"

die() { echo "${0##*/}: $*" >&2; exit 1; }
log() { echo "${0##*/}: $*" >&2; }

# cache_lock NAME - hold an exclusive lock on the cache's NAME until this
# script exits: two test runs started at once (two checkouts, two
# helpers) would otherwise unpack the same kernel into the same directory
# together and leave it broken. The second waits, then finds it done.
cache_lock() {
	local fd
	exec {fd}> "$VOLSNAP_CACHE/.$1.lock"
	flock -n "$fd" && return
	log "waiting for another run to finish with the cache ($1)"
	flock "$fd"
}

# debian_sources_file - the system's deb822 Debian sources file
debian_sources_file() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -q '^Suites:.*bookworm' "$f" && { echo "$f"; return; }
	done
	die "no deb822 Debian sources file for bookworm under /etc/apt/sources.list.d"
}

# derive_sources SUITE - print the first stanza of the Debian sources file
# (the main archive, not security) with its Suites: line set to SUITE.
derive_sources() {
	awk -v suite="$1" 'BEGIN { RS = ""; ORS = "\n\n" }
		NR == 1 { sub(/Suites:[^\n]*/, "Suites: " suite); print }' \
		"$(debian_sources_file)"
}

# private_apt SUITE - set APT_OPTS to an apt configuration that only sees
# SUITE, kept under the cache, leaving the system's sources untouched.
private_apt() {
	local d="$VOLSNAP_CACHE/apt-$1"
	mkdir -p "$d/sources.list.d" "$d/lists/partial" "$d/cache/archives/partial"
	derive_sources "$1" > "$d/sources.list.d/$1.sources"
	APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null"
		  -o "Dir::Etc::SourceParts=$d/sources.list.d"
		  -o "Dir::State::Lists=$d/lists"
		  -o "Dir::Cache=$d/cache"
		  -o "Dir::State::status=/dev/null")
	if [ -z "$(find "$d/lists" -name '*Packages*' -mmin -720 2>/dev/null)" ]; then
		apt-get "${APT_OPTS[@]}" update -q >&2 || die "apt-get update for $1 failed"
	fi
}

# kernel_build_dir ABI - the build tree of Debian's kernel ABI as
# tests/vm/deps.sh unpacks it into the cache (for make -C DIR M=...).
kernel_build_dir() {
	echo "$VOLSNAP_CACHE/kernels/$1/root/usr/src/linux-headers-$1"
}

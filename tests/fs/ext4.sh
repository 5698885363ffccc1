#!/bin/sh
# Snapshots of a mounted ext4 filesystem under load: see fs_suite in
# ../lib/fs.sh.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
. ../lib/fs.sh

fs_suite ext4

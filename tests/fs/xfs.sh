#!/bin/sh
# Snapshots of a mounted xfs filesystem under load: see fs_suite in
# ../lib/fs.sh.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
. ../lib/fs.sh

fs_suite xfs

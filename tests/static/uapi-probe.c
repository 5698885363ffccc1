// SPDX-License-Identifier: GPL-2.0
/*
 * Compile probe of the UAPI header, built with -Wpadded -Werror: no
 * implicit padding anywhere, every struct a multiple of 8 bytes, so the
 * layout is the same on every architecture and for 32-bit callers.
 */
#include <assert.h>
#include <linux/volsnap.h>

static_assert(sizeof(struct volsnap_features) == 80, "volsnap_features");
static_assert(sizeof(struct volsnap_attach) == 48, "volsnap_attach");
static_assert(sizeof(struct volsnap_origin_cmd) == 32, "volsnap_origin_cmd");
static_assert(sizeof(struct volsnap_create) == 72, "volsnap_create");
static_assert(sizeof(struct volsnap_create_set) == 48, "volsnap_create_set");
static_assert(sizeof(struct volsnap_delete) == 32, "volsnap_delete");
static_assert(sizeof(struct volsnap_origin_info) == 72, "volsnap_origin_info");
static_assert(sizeof(struct volsnap_snapshot_info) == 56, "volsnap_snapshot_info");
static_assert(sizeof(struct volsnap_list) == 32, "volsnap_list");
static_assert(sizeof(struct volsnap_status) == 112, "volsnap_status");
static_assert(sizeof(struct volsnap_extent) == 16, "volsnap_extent");
static_assert(sizeof(struct volsnap_diff) == 80, "volsnap_diff");
static_assert(sizeof(struct volsnap_revert) == 32, "volsnap_revert");
static_assert(sizeof(struct volsnap_writable) == 32, "volsnap_writable");
static_assert(sizeof(struct volsnap_origin_set) == 32, "volsnap_origin_set");
static_assert(sizeof(struct volsnap_event) == 80, "volsnap_event");

int main(void)
{
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Compile probe of the UAPI header, built with -Wpadded -Werror: no
 * implicit padding anywhere, every struct a multiple of 8 bytes, so the
 * layout is the same on every architecture and for 32-bit callers.
 */
#include <assert.h>
#include <linux/volsnap.h>

static_assert(sizeof(struct volsnap_features) == 80, "volsnap_features");

int main(void)
{
	return 0;
}

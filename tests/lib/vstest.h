/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the C tests (guest side). */
#ifndef VSTEST_H
#define VSTEST_H

#include <stdbool.h>

#include <linux/volsnap.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define VS_CTL_PATH "/dev/" VOLSNAP_CTL_NAME
#define VS_KO_PATH "/lib/modules/volsnap.ko"

/* Load the module if it is not loaded; returns 0 or -errno. */
int vs_module_load(void);
/* Open the control device read-write; returns an fd or -errno. */
int vs_ctl_open(void);
/* Drop CAP_SYS_ADMIN from this process's effective set; 0 or -errno. */
int vs_drop_sys_admin(void);

/*
 * The test profile, VS_PROFILE in the environment: "debug" on the debug
 * kernel (KASAN, lockdep), where tests shrink their regions and rounds but
 * keep every code path; "full" elsewhere (Documentation/testing.rst).
 */
bool vs_debug_profile(void);
/* full, or debug under the debug profile. */
unsigned long vs_scaled(unsigned long full, unsigned long debug);

#endif

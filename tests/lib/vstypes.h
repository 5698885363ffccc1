/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-style fixed-size types for the tests' C code. */
#ifndef VSTYPES_H
#define VSTYPES_H

#include <linux/types.h>

typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;

#endif

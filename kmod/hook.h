/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How bios reach the module: an ftrace hook on submit_bio_noacct().
 *
 * The rest of the module sees four functions and one callback; nothing
 * else knows that ftrace is involved.
 */
#ifndef VOLSNAP_HOOK_H
#define VOLSNAP_HOOK_H

struct bio;

int volsnap_hook_init(void);
void volsnap_hook_exit(void);
void volsnap_hook_submit(struct bio *bio);
void volsnap_hook_sync(void);

/* Fault point for the test of the unload (main.c's debug_hook_delay_ms). */
extern unsigned int volsnap_debug_hook_delay_ms;

/* The callback, in origin.c: true when it took the bio. */
bool volsnap_origin_filter(struct bio *bio);

#endif /* VOLSNAP_HOOK_H */

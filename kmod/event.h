/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events for user space: records read from the control device, and the
 * same news as uevents on the origin's block device.
 */
#ifndef VOLSNAP_EVENT_H
#define VOLSNAP_EVENT_H

#include <linux/types.h>

#include <linux/volsnap.h>

struct file;
struct poll_table_struct;

void volsnap_event_raise(const struct volsnap_event *ev);

int volsnap_event_open(struct file *file);
void volsnap_event_release(struct file *file);
ssize_t volsnap_event_read(struct file *file, char __user *buf, size_t len);
__poll_t volsnap_event_poll(struct file *file, struct poll_table_struct *wait);

void volsnap_event_flush_uevents(void);
void volsnap_event_exit(void);

#endif /* VOLSNAP_EVENT_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control device: /dev/volsnap-ctl, the only way into the module from
 * user space.
 */
#ifndef VOLSNAP_CTL_H
#define VOLSNAP_CTL_H

int volsnap_ctl_init(void);
void volsnap_ctl_exit(void);

#endif /* VOLSNAP_CTL_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "host-use.h"
#include "macro.h"

/* Something the host uses, found by its sysfs path: a block device, a network interface's
 * device, a virtio device. The PCI function it sits below is in use for this reason. */
struct host_use {
        char *syspath;
        char *reason;
};

struct host_use_view {
        struct host_use *uses; /* in the order their reasons are preferred */
        size_t n_uses;
};

/* Takes reason over (also on failure). */
int host_use_add(struct host_use_view *view, const char *syspath, char *reason);

/* The collectors host_use_view_new() runs, each adding what it finds. */
int host_use_collect_storage(struct host_use_view *view);
int host_use_collect_network(struct host_use_view *view);

/* HOST_USE_OPENERS for the block devices below a PCI function's sysfs path. */
int host_use_find_openers(const char *pci_syspath, char **ret_reason);

/* Whether path is top or lies below it. sysfs nests devices like the bus topology. */
bool sysfs_path_is_below(const char *path, const char *top);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host-use.h"
#include "macro.h"

/* Something the host uses, found by its sysfs path: a block device, a network interface's
 * device, a virtio device. The PCI function it sits below is in use for this reason. */
struct host_use {
        char *syspath;
        char *reason;
};

/* A block device, with where it physically is (see block_device_locations()). */
struct block_node {
        dev_t devnum;
        char *node; /* "/dev/nvme0n1", from the kernel's DEVNAME */
        char **locations;
};

/* A process with a block device open. */
struct block_opener {
        const struct block_node *block;
        pid_t pid;
        char *comm;
};

struct host_use_view {
        struct host_use *uses; /* in the order their reasons are preferred */
        size_t n_uses;

        /* Read on first need: only devices with block devices ask for them. */
        bool blocks_read, openers_read;
        struct block_node *blocks;
        size_t n_blocks;
        struct block_opener *openers;
        size_t n_openers;
};

/* Takes reason over (also on failure). */
int host_use_add(struct host_use_view *view, const char *syspath, char *reason);

/* The collectors host_use_view_new() runs, each adding what it finds. */
int host_use_collect_storage(struct host_use_view *view);
int host_use_collect_network(struct host_use_view *view);

/* Programs that have a block device of the PCI function at pci_syspath open; with
 * HOST_USE_PROBE_EXCLUSIVE also exclusive holders. Same returns as host_use_find(). */
int host_use_find_openers(struct host_use_view *view, const char *pci_syspath, unsigned flags, char **ret_reason);

/* Whether path is top or lies below it. sysfs nests devices like the bus topology. */
bool sysfs_path_is_below(const char *path, const char *top);

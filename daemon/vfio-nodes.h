/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pci-address.h"

/* The one place that knows the /dev nodes through which VFIO reaches a device: its group's
 * /dev/vfio/GROUP, on kernels with the VFIO device cdev its /dev/vfio/devices/vfioN (named by
 * devices/ADDR/vfio-dev/), and /dev/iommu where IOMMUFD exists. */

#define VFIO_GROUP_NODE_MAX 32

/* "/dev/vfio/6". */
const char *vfio_group_node(int iommu_group, char buf[static VFIO_GROUP_NODE_MAX]);

/* Whether path is a character device now. */
bool vfio_node_exists(const char *path);

/* The group's node, once udev has made it (it does so asynchronously after a bind): 0 and the
 * path (free() it) — also with -ETIMEDOUT when it did not appear within timeout_usec. */
int vfio_group_node_wait(int iommu_group, uint64_t timeout_usec, char **ret_path);

/* Adds the device's cdev node, when it has one, to *nodes (unless there already). */
int vfio_nodes_add_cdev(const struct pci_address *address, char ***nodes);

/* Every node that exists now for a device on vfio-pci in iommu_group: the group node, its cdev,
 * /dev/iommu. */
int vfio_nodes_of_device(const struct pci_address *address, int iommu_group, char ***nodes);

enum vfio_node_kind {
        VFIO_NODE_INVALID, /* none of the nodes the daemon grants */
        VFIO_NODE_GROUP,   /* /dev/vfio/GROUP */
        VFIO_NODE_CDEV,    /* /dev/vfio/devices/vfioN */
        VFIO_NODE_IOMMU,   /* /dev/iommu */
};

/* What a node path (from a record: untrusted text) is. For a cdev, *ret_name is its name in
 * /dev/vfio/devices ("vfio3"), pointing into path. */
enum vfio_node_kind vfio_node_classify(const char *path, const char **ret_name);

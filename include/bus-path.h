/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "pci-address.h"

/* The object paths of the daemon's objects: one per PCI function, named by its canonical address
 * with ':' and '.' spelt '_' (/org/vfio/Passthrough1/devices/0000_59_00_0), one per IOMMU group
 * (/org/vfio/Passthrough1/groups/6). */

#define BUS_PATH_MAX 96

const char *bus_device_path(const struct pci_address *address, char buf[static BUS_PATH_MAX]);
const char *bus_group_path(int iommu_group, char buf[static BUS_PATH_MAX]);

/* -EINVAL unless path is a device (group) object's path, in canonical spelling. */
int bus_device_path_parse(const char *path, struct pci_address *ret);
int bus_group_path_parse(const char *path, int *ret);

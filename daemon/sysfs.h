/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pci-address.h"

#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define SYSFS_PCI_DRIVERS "/sys/bus/pci/drivers"
#define SYSFS_IOMMU_GROUPS "/sys/kernel/iommu_groups"

/* sysfs paths are only ever built from a parsed address and a name chosen by the daemon, never
 * from caller text. Returns -ENAMETOOLONG when buf is too small. */
int pci_device_path(const struct pci_address *address, const char *attribute, char *buf, size_t size);

/* Reads a small attribute and strips the trailing newline. */
int sysfs_read_string(const char *path, char **ret);

/* Reads an attribute like "0x8086". */
int sysfs_read_hex(const char *path, uint32_t *ret);

/* Reads an attribute like "-1". */
int sysfs_read_int(const char *path, int *ret);

/* Returns the last component of a symlink's target: the driver or IOMMU group a device links to. */
int sysfs_read_link_name(const char *path, char **ret);

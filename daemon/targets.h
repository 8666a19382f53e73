/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "operation.h"
#include "pci-device.h"

struct iommu_group;

/* The devices one call acts on, chosen the same way when the call is authorized (on the bus
 * thread, so that every device it will touch is asked about) and when it runs (on a worker): the
 * named device first, then, with the group flag, the other members of its IOMMU group that the
 * operation concerns:
 *   Detach   every endpoint (bridges stay on their driver, which VFIO allows);
 *   Attach   every endpoint that keeps the group from VFIO (on a host driver);
 *   Restore  every member the daemon moved (it has a record);
 *   Grant    the named device only (the flag only widens which nodes are granted).
 * The group, with the members not taken as targets, is kept for the checks that need it. */
struct targets {
        struct pci_device **devices;
        size_t n;
        struct iommu_group *group; /* NULL without the group flag or an IOMMU group */
};

void targets_done(struct targets *t);
int targets_add(struct targets *t, struct pci_device *device);

/* reader as for pci_device_load(); state_dir for Restore's choice. -ENODEV when the named device
 * does not exist; another negative errno when sysfs could not be read. */
int targets_select(const struct pci_reader *reader, enum operation_kind kind, const struct pci_address *named,
                   uint64_t flags, const char *state_dir, struct targets *ret);

/* Whether a device is in the list. */
bool targets_contain(const struct targets *t, const struct pci_address *address);

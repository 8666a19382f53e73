/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci-device.h"

struct iommu_group {
        int id;
        struct pci_device **members; /* sorted by address */
        size_t n_members;
        size_t n_foreign; /* members that are not PCI functions: they always block VFIO */
};

/* -ENODEV when the group does not exist. */
int iommu_group_load(const struct pci_reader *reader, int id, struct iommu_group **ret);
struct iommu_group *iommu_group_free(struct iommu_group *group);
void iommu_group_freep(struct iommu_group **group);

bool iommu_group_viable(const struct iommu_group *group);

/* Only the count of members that are not PCI functions, without loading the PCI ones: -ENODEV
 * when the group does not exist. */
int iommu_group_count_foreign(int id, size_t *ret);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The kernel lets a VFIO user claim an IOMMU group only when no member is driven by a host driver
 * that does its own DMA: every member must be unbound, on a vfio driver, on pci-stub, or on a
 * driver that declares driver_managed_dma (pcieport, since 5.19). Returns whether a member with
 * this driver (NULL: none) leaves the group usable, and a short reason a person can read. */
bool vfio_driver_allows_group(const char *driver, const char **ret_reason);

/* vfio-pci itself or a vendor variant of it (mlx5_vfio_pci, hisi_acc_vfio_pci, ...). */
bool vfio_driver_is_vfio(const char *driver);

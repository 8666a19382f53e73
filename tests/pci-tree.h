/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <umockdev.h>

/* One PCI function of the simulated machine. */
struct fake_pci_device {
        const char *address;
        const char *parent; /* address of the upstream bridge; NULL: on the root bus */
        unsigned vendor, device, subsystem_vendor, subsystem_device, class_code;
        const char *driver; /* NULL: no driver */
        int iommu_group;
        int boot_vga; /* -1: no boot_vga attribute (not a display device) */
};

/* The machine every service test starts from: a desktop with an Intel host, an integrated GPU
 * that drives the console, a discrete GPU + HDMI audio behind a root port sharing one IOMMU group,
 * a dual-port NIC whose identical functions sit in separate groups, an NVMe drive, an unbound
 * NIC, and a chipset group of several host-driven functions that can never be passed through. */
extern const struct fake_pci_device fake_pci_tree[];
extern const size_t fake_pci_tree_size;

/* Builds the tree in the testbed: devices, their driver and IOMMU group links, the driver
 * directories and /sys/kernel/iommu_groups. */
void fake_pci_tree_add(UMockdevTestbed *testbed);

/* Where a device of the tree lives in the testbed, e.g. "/sys/devices/pci0000:00/0000:00:01.0". */
char *fake_pci_device_syspath(const char *address);

/* A driver directory, as when its module is loaded: /sys/bus/pci/drivers/DRIVER. */
void fake_pci_driver_add(UMockdevTestbed *testbed, const char *driver);

/* A network interface of a PCI NIC, as the kernel shows it: /sys/class/net/IFNAME with a device
 * link to the function, flags (IFF_UP set or not) and operstate. */
void fake_pci_net_interface_add(UMockdevTestbed *testbed, const char *address, const char *ifname, int up);

/* A namespace of an NVMe controller, .../ADDRESS/nvme/nvme0/nvme0n1, as block device major:minor
 * dev ("254:0"), with its /sys/dev/block link. */
void fake_pci_nvme_namespace_add(UMockdevTestbed *testbed, const char *address, const char *dev);

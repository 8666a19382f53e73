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

/* Only what every tree has: the root bus, the driver and IOMMU group directories. */
void fake_pci_tree_add_skeleton(UMockdevTestbed *testbed);

/* Where a device of the tree lives in the testbed, e.g. "/sys/devices/pci0000:00/0000:00:01.0". */
char *fake_pci_device_syspath(const char *address);

/* A driver directory, as when its module is loaded: /sys/bus/pci/drivers/DRIVER. */
void fake_pci_driver_add(UMockdevTestbed *testbed, const char *driver);

/* A network interface of a PCI NIC, as the kernel shows it: /sys/class/net/IFNAME with a device
 * link to the function, flags (IFF_UP set or not) and operstate. */
void fake_pci_net_interface_add(UMockdevTestbed *testbed, const char *address, const char *ifname, int up);

/* One device of fake_pci_tree or fake_pci_extra, with its driver and IOMMU group links. */
void fake_pci_device_add(UMockdevTestbed *testbed, const struct fake_pci_device *device);

/* Devices a test may add beside the machine: 0000:00:05.0, a virtio 9p device (group 13);
 * 0000:00:06.0, a virtio-fs device (group 14); 0000:59:10.0, a virtual function of the igb NIC
 * 0000:59:00.0, on igbvf (group 15). */
const struct fake_pci_device *fake_pci_extra_device(const char *address);

/* A disk at parent_syspath/path as block device major:minor dev ("259:0"), with its dev attribute,
 * /sys/dev/block and /sys/class/block links and DEVNAME. properties: udev properties, name, value,
 * ..., NULL (may be NULL). Returns the syspath. */
char *fake_block_device_add(UMockdevTestbed *testbed, const char *parent_syspath, const char *path, const char *dev,
                            const char *const *properties);
/* The same for a partition of the disk at disk_syspath. */
char *fake_block_partition_add(UMockdevTestbed *testbed, const char *disk_syspath, const char *name,
                               const char *dev, const char *const *properties);

/* A namespace of an NVMe controller, .../ADDRESS/nvme/nvme0/nvme0n1, as block device dev
 * ("254:0"). Returns its syspath. */
char *fake_pci_nvme_namespace_add(UMockdevTestbed *testbed, const char *address, const char *dev);

/* The same, for a namespace that several controllers share: native NVMe multipath puts its disk
 * in the subsystem, /sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1, which links to the
 * controller below the PCI device. */
char *fake_nvme_shared_namespace_add(UMockdevTestbed *testbed, const char *address, const char *dev);

/* A dm, md or bcache device in /sys/devices/virtual/block built on bases (syspaths, NULL
 * terminated): slaves/ links to them, holders/ links from them. detail_attribute ("dm/name",
 * "md/level") may carry its name or level. Returns its syspath. */
char *fake_stacked_block_device_add(UMockdevTestbed *testbed, const char *name, const char *dev,
                                    const char *const *bases, const char *detail_attribute, const char *detail);

/* A virtio device (virtioN) below the PCI device at address, on driver (NULL: none), with a
 * 9p mount_tag attribute (NULL: none). Returns its syspath. */
char *fake_virtio_device_add(UMockdevTestbed *testbed, const char *address, const char *name, const char *driver,
                             const char *mount_tag);

/* /sys/fs/virtiofs/INDEX with its tag and device link, as kernels since 6.10 show virtio-fs. */
void fake_virtiofs_instance_add(UMockdevTestbed *testbed, const char *virtio_syspath, unsigned index,
                                const char *tag);

/* /sys/fs/btrfs/FSID/devices/: a btrfs filesystem made of the block devices (syspaths, NULL
 * terminated). */
void fake_btrfs_add(UMockdevTestbed *testbed, const char *fsid, const char *const *devices);

/* The virtfnN and physfn links between an SR-IOV physical function and one of its VFs. */
void fake_sriov_link(UMockdevTestbed *testbed, const char *pf, const char *vf, unsigned index);

/* A file of the testbed's /proc ("swaps", "self/mountinfo", "4242/mountinfo"): umockdev serves
 * it in place of the real one to the daemon, which reads the rest of /proc from the kernel. */
void fake_proc_file(UMockdevTestbed *testbed, const char *path, const char *contents);

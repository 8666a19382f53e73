/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pci-tree.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* Real ids, so names come from the real udev hardware database. */
const struct fake_pci_device fake_pci_tree[] = {
        /* address        parent          vendor  device  sub-v   sub-d   class     driver           group boot_vga */
        { "0000:00:00.0", NULL,           0x8086, 0x3e30, 0x1043, 0x8694, 0x060000, "skl_uncore",    0,    -1 },
        { "0000:00:01.0", NULL,           0x8086, 0x1901, 0x1043, 0x8694, 0x060400, "pcieport",      1,    -1 },
        { "0000:01:00.0", "0000:00:01.0", 0x10de, 0x1b80, 0x1043, 0x8591, 0x030000, "nouveau",       1,    0 },
        { "0000:01:00.1", "0000:00:01.0", 0x10de, 0x10f0, 0x1043, 0x8591, 0x040300, "snd_hda_intel", 1,    -1 },
        { "0000:00:02.0", NULL,           0x8086, 0x3e92, 0x1043, 0x8694, 0x030000, "i915",          2,    1 },
        { "0000:00:14.0", NULL,           0x8086, 0xa36d, 0x1043, 0x8694, 0x0c0330, "xhci_hcd",      3,    -1 },
        { "0000:00:17.0", NULL,           0x8086, 0xa352, 0x1043, 0x8694, 0x010601, "ahci",          4,    -1 },
        { "0000:00:1c.0", NULL,           0x8086, 0xa338, 0x1043, 0x8694, 0x060400, "pcieport",      5,    -1 },
        { "0000:59:00.0", "0000:00:1c.0", 0x8086, 0x1521, 0x8086, 0x0001, 0x020000, "igb",           6,    -1 },
        { "0000:59:00.1", "0000:00:1c.0", 0x8086, 0x1521, 0x8086, 0x0001, 0x020000, "igb",           7,    -1 },
        { "0000:00:1d.0", NULL,           0x8086, 0xa330, 0x1043, 0x8694, 0x060400, "pcieport",      8,    -1 },
        { "0000:02:00.0", "0000:00:1d.0", 0x144d, 0xa808, 0x144d, 0xa801, 0x010802, "nvme",          9,    -1 },
        { "0000:00:1f.0", NULL,           0x8086, 0xa306, 0x1043, 0x8694, 0x060100, NULL,            10,   -1 },
        { "0000:00:1f.3", NULL,           0x8086, 0xa348, 0x1043, 0x8724, 0x040300, "snd_hda_intel", 10,   -1 },
        { "0000:00:1f.4", NULL,           0x8086, 0xa323, 0x1043, 0x8694, 0x0c0500, "i801_smbus",    10,   -1 },
        { "0000:00:1f.6", NULL,           0x8086, 0x15bc, 0x1043, 0x8672, 0x020000, "e1000e",        11,   -1 },
        { "0000:03:00.0", "0000:00:1d.0", 0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000, NULL,            12,   -1 },
};
const size_t fake_pci_tree_size = G_N_ELEMENTS(fake_pci_tree);

/* Devices a test adds beside the tree (a virtio device, a virtual function). */
const struct fake_pci_device fake_pci_extra[] = {
        /* address        parent          vendor  device  sub-v   sub-d   class     driver           group boot_vga */
        { "0000:00:05.0", NULL,           0x1af4, 0x1049, 0x1af4, 0x0009, 0x000200, "virtio-pci",    13,   -1 },
        { "0000:00:06.0", NULL,           0x1af4, 0x105a, 0x1af4, 0x1100, 0x018000, "virtio-pci",    14,   -1 },
        { "0000:59:10.0", "0000:00:1c.0", 0x8086, 0x1520, 0x8086, 0x0001, 0x020000, "igbvf",         15,   -1 },
};

static const struct fake_pci_device *find(const char *address) {
        for (size_t i = 0; i < fake_pci_tree_size; i++)
                if (strcmp(fake_pci_tree[i].address, address) == 0)
                        return &fake_pci_tree[i];
        for (size_t i = 0; i < G_N_ELEMENTS(fake_pci_extra); i++)
                if (strcmp(fake_pci_extra[i].address, address) == 0)
                        return &fake_pci_extra[i];
        g_error("fake PCI tree has no %s", address);
}

const struct fake_pci_device *fake_pci_extra_device(const char *address) {
        for (size_t i = 0; i < G_N_ELEMENTS(fake_pci_extra); i++)
                if (strcmp(fake_pci_extra[i].address, address) == 0)
                        return &fake_pci_extra[i];
        g_error("no extra fake PCI device %s", address);
}

char *fake_pci_device_syspath(const char *address) {
        const struct fake_pci_device *d = find(address);
        g_autofree char *parent = NULL;

        if (!d->parent)
                return g_strdup_printf("/sys/devices/pci0000:00/%s", address);
        parent = fake_pci_device_syspath(d->parent);
        return g_strdup_printf("%s/%s", parent, address);
}

/* Relative link from a device directory back up to /sys, as the kernel writes them. */
static char *up_to_sys(const char *syspath) {
        GString *s = g_string_new(NULL);
        for (const char *p = syspath + strlen("/sys"); *p; p++)
                if (*p == '/')
                        g_string_append(s, "../");
        return g_string_free(s, FALSE);
}

static void make_link(const char *root, const char *target, const char *link_path) {
        g_autofree char *full = g_build_filename(root, link_path, NULL);
        g_autofree char *dir = g_path_get_dirname(full);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        if (symlink(target, full) < 0)
                g_error("symlink %s -> %s: %s", full, target, g_strerror(errno));
}

static void make_dir(const char *root, const char *path) {
        g_autofree char *full = g_build_filename(root, path, NULL);
        g_assert_cmpint(g_mkdir_with_parents(full, 0755), ==, 0);
}

static void put_le16(guint8 *at, unsigned value) {
        at[0] = value & 0xff;
        at[1] = (value >> 8) & 0xff;
}

/* The standard header of the configuration space, as lspci reads it (a type 1 header for a
 * bridge, with no subsystem ids there). */
static void add_config_space(UMockdevTestbed *testbed, const char *syspath, const struct fake_pci_device *d) {
        guint8 config[64] = { 0 };
        gboolean bridge = (d->class_code >> 8) == 0x0604;

        put_le16(config + 0x00, d->vendor);
        put_le16(config + 0x02, d->device);
        config[0x09] = d->class_code & 0xff;
        config[0x0a] = (d->class_code >> 8) & 0xff;
        config[0x0b] = (d->class_code >> 16) & 0xff;
        config[0x0e] = bridge ? 0x01 : 0x00;
        if (!bridge) {
                put_le16(config + 0x2c, d->subsystem_vendor);
                put_le16(config + 0x2e, d->subsystem_device);
        }
        umockdev_testbed_set_attribute_binary(testbed, syspath, "config", config, sizeof(config));
}

void fake_pci_device_add(UMockdevTestbed *testbed, const struct fake_pci_device *d) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *parent = d->parent ? fake_pci_device_syspath(d->parent) : g_strdup("/sys/devices/pci0000:00");
        g_autofree char *vendor = g_strdup_printf("0x%04x", d->vendor);
        g_autofree char *device = g_strdup_printf("0x%04x", d->device);
        g_autofree char *sub_vendor = g_strdup_printf("0x%04x", d->subsystem_vendor);
        g_autofree char *sub_device = g_strdup_printf("0x%04x", d->subsystem_device);
        g_autofree char *class_code = g_strdup_printf("0x%06x", d->class_code);
        g_autofree char *modalias = g_strdup_printf("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", d->vendor,
                                                    d->device, d->subsystem_vendor, d->subsystem_device,
                                                    d->class_code >> 16, (d->class_code >> 8) & 0xff,
                                                    d->class_code & 0xff);
        g_autofree char *syspath = NULL;
        g_autofree char *up = NULL;
        g_autofree char *link = NULL;
        g_autofree char *target = NULL;

        syspath = umockdev_testbed_add_device(testbed, "pci", d->address, parent, "vendor", vendor, "device",
                                              device, "subsystem_vendor", sub_vendor, "subsystem_device",
                                              sub_device, "class", class_code, "modalias", modalias,
                                              "driver_override", "(null)", "numa_node", "-1", NULL,
                                              "PCI_SLOT_NAME", d->address, NULL);
        g_assert_nonnull(syspath);
        g_debug("added %s", syspath);
        add_config_space(testbed, syspath, d);
        if (d->boot_vga >= 0)
                umockdev_testbed_set_attribute(testbed, syspath, "boot_vga", d->boot_vga ? "1" : "0");

        up = up_to_sys(syspath);
        if (d->driver) {
                g_autofree char *driver_dir = g_strdup_printf("sys/bus/pci/drivers/%s", d->driver);
                g_autofree char *back = g_strdup_printf("%s/%s", driver_dir, d->address);
                g_autofree char *back_target = g_strdup_printf("../../../..%s", syspath + strlen("/sys"));

                make_dir(root, driver_dir);
                target = g_strdup_printf("%sbus/pci/drivers/%s", up, d->driver);
                link = g_strdup_printf("%s/driver", syspath);
                make_link(root, target, link);
                make_link(root, back_target, back);
                g_clear_pointer(&target, g_free);
                g_clear_pointer(&link, g_free);
        }

        if (d->iommu_group >= 0) {
                g_autofree char *member = g_strdup_printf("sys/kernel/iommu_groups/%d/devices/%s", d->iommu_group,
                                                          d->address);
                g_autofree char *member_target = g_strdup_printf("../../../..%s", syspath + strlen("/sys"));

                target = g_strdup_printf("%skernel/iommu_groups/%d", up, d->iommu_group);
                link = g_strdup_printf("%s/iommu_group", syspath);
                make_link(root, target, link);
                make_link(root, member_target, member);
        }
}

void fake_pci_tree_add_skeleton(UMockdevTestbed *testbed) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);

        make_dir(root, "sys/devices/pci0000:00");
        make_dir(root, "sys/bus/pci/drivers");
        make_dir(root, "sys/kernel/iommu_groups");
}

void fake_pci_tree_add(UMockdevTestbed *testbed) {
        fake_pci_tree_add_skeleton(testbed);
        for (size_t i = 0; i < fake_pci_tree_size; i++)
                fake_pci_device_add(testbed, &fake_pci_tree[i]);
}

void fake_pci_driver_add(UMockdevTestbed *testbed, const char *driver) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *dir = g_strdup_printf("sys/bus/pci/drivers/%s", driver);
        make_dir(root, dir);
}

void fake_pci_net_interface_add(UMockdevTestbed *testbed, const char *address, const char *ifname, int up) {
        g_autofree char *parent = fake_pci_device_syspath(address);
        g_autofree char *name = g_strdup_printf("net/%s", ifname);
        g_autofree char *device = g_strdup_printf("../../../%s", address);
        g_autofree char *syspath = NULL;

        syspath = umockdev_testbed_add_device(testbed, "net", name, parent,
                                              "flags", up ? "0x1003\n" : "0x1002\n",
                                              "operstate", up ? "up\n" : "down\n",
                                              "ifindex", "7\n", "type", "1\n", NULL,
                                              "INTERFACE", ifname, "IFINDEX", "7", NULL);
        g_assert_nonnull(syspath);
        umockdev_testbed_set_attribute_link(testbed, syspath, "device", device);
}

/* A symlink at link (a /sys path) to target (a /sys path), relative as the kernel writes them. */
static void sys_link(const char *root, const char *link, const char *target) {
        g_autofree char *dir = g_path_get_dirname(link);
        g_autofree char *up = up_to_sys(dir);
        g_autofree char *relative = g_strdup_printf("%s%s", up, target + strlen("/sys/"));
        g_autofree char *full = g_build_filename(root, link, NULL);

        if (g_file_test(full, G_FILE_TEST_IS_SYMLINK))
                return;
        make_link(root, relative, link);
}

/* The dev attribute and /sys/dev/block link of a block device. Not through umockdev's own "dev"
 * handling: it would file the device under /sys/dev/char. */
static void set_block_devnum(UMockdevTestbed *testbed, const char *syspath, const char *dev) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *link = g_strdup_printf("/sys/dev/block/%s", dev);
        g_autofree char *dev_attribute = g_strdup_printf("%s\n", dev);

        umockdev_testbed_set_attribute(testbed, syspath, "dev", dev_attribute);
        sys_link(root, link, syspath);
}

static char *add_block(UMockdevTestbed *testbed, const char *parent_syspath, const char *path, const char *dev,
                       const char *devtype, const char *const *properties) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *name = g_path_get_basename(path);
        g_autofree char *devname = g_strdup_printf("/dev/%s", name);
        g_autofree char *class_link = g_strdup_printf("/sys/class/block/%s", name);
        char *syspath;

        syspath = umockdev_testbed_add_device(testbed, "block", path, parent_syspath, "size", "1000215216\n", NULL,
                                              "DEVTYPE", devtype, "DEVNAME", devname, NULL);
        g_assert_nonnull(syspath);
        for (const char *const *p = properties; p && p[0]; p += 2)
                umockdev_testbed_set_property(testbed, syspath, p[0], p[1]);
        set_block_devnum(testbed, syspath, dev);
        sys_link(root, class_link, syspath);
        /* A node in the testbed's /dev, so that whatever the daemon opens by this name (its
         * exclusive-open probe) is a file of the testbed, never a disk of the machine. */
        {
                g_autofree char *node = g_build_filename(root, devname, NULL);
                g_autofree char *dir = g_path_get_dirname(node);
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                g_assert_true(g_file_set_contents(node, "", 0, NULL));
        }
        return syspath;
}

char *fake_block_device_add(UMockdevTestbed *testbed, const char *parent_syspath, const char *path, const char *dev,
                            const char *const *properties) {
        return add_block(testbed, parent_syspath, path, dev, "disk", properties);
}

char *fake_block_partition_add(UMockdevTestbed *testbed, const char *disk_syspath, const char *name,
                               const char *dev, const char *const *properties) {
        return add_block(testbed, disk_syspath, name, dev, "partition", properties);
}

char *fake_pci_nvme_namespace_add(UMockdevTestbed *testbed, const char *address, const char *dev) {
        g_autofree char *parent = fake_pci_device_syspath(address);
        g_autofree char *controller = NULL;

        controller = umockdev_testbed_add_device(testbed, "nvme", "nvme/nvme0", parent, NULL, NULL);
        g_assert_nonnull(controller);
        return fake_block_device_add(testbed, controller, "nvme0n1", dev, NULL);
}

char *fake_nvme_shared_namespace_add(UMockdevTestbed *testbed, const char *address, const char *dev) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *parent = fake_pci_device_syspath(address);
        g_autofree char *controller = NULL;
        const char *subsystem = "/sys/devices/virtual/nvme-subsystem/nvme-subsys0";

        controller = umockdev_testbed_add_device(testbed, "nvme", "nvme/nvme0", parent, NULL, NULL);
        g_assert_nonnull(controller);
        make_dir(root, subsystem + 1);
        sys_link(root, "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0", controller);
        return fake_block_device_add(testbed, subsystem, "nvme0n1", dev, NULL);
}

char *fake_stacked_block_device_add(UMockdevTestbed *testbed, const char *name, const char *dev,
                                    const char *const *bases, const char *detail_attribute, const char *detail) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        char *syspath;

        make_dir(root, "sys/devices/virtual/block");
        syspath = add_block(testbed, "/sys/devices/virtual/block", name, dev, "disk", NULL);

        if (detail_attribute)
                umockdev_testbed_set_attribute(testbed, syspath, detail_attribute, detail);
        for (const char *const *b = bases; *b; b++) {
                g_autofree char *base_name = g_path_get_basename(*b);
                g_autofree char *slave = g_strdup_printf("%s/slaves/%s", syspath, base_name);
                g_autofree char *holder = g_strdup_printf("%s/holders/%s", *b, name);

                sys_link(root, slave, *b);
                sys_link(root, holder, syspath);
        }
        return syspath;
}

char *fake_virtio_device_add(UMockdevTestbed *testbed, const char *address, const char *name, const char *driver,
                             const char *mount_tag) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *parent = fake_pci_device_syspath(address);
        g_autofree char *bus_link = g_strdup_printf("/sys/bus/virtio/devices/%s", name);
        char *syspath;

        syspath = umockdev_testbed_add_device(testbed, "virtio", name, parent, NULL, NULL);
        g_assert_nonnull(syspath);
        if (mount_tag)
                umockdev_testbed_set_attribute(testbed, syspath, "mount_tag", mount_tag);
        if (driver) {
                g_autofree char *driver_dir = g_strdup_printf("/sys/bus/virtio/drivers/%s", driver);
                g_autofree char *back = g_strdup_printf("%s/%s", driver_dir, name);
                g_autofree char *link = g_strdup_printf("%s/driver", syspath);

                make_dir(root, driver_dir + 1);
                sys_link(root, back, syspath);
                sys_link(root, link, driver_dir);
        }
        sys_link(root, bus_link, syspath);
        return syspath;
}

void fake_virtiofs_instance_add(UMockdevTestbed *testbed, const char *virtio_syspath, unsigned index,
                                const char *tag) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *dir = g_strdup_printf("sys/fs/virtiofs/%u", index);
        g_autofree char *tag_path = g_strdup_printf("%s/%s/tag", root, dir);
        g_autofree char *tag_text = g_strdup_printf("%s\n", tag);
        g_autofree char *device = g_strdup_printf("/%s/device", dir);

        make_dir(root, dir);
        g_assert_true(g_file_set_contents(tag_path, tag_text, -1, NULL));
        sys_link(root, device, virtio_syspath);
}

void fake_btrfs_add(UMockdevTestbed *testbed, const char *fsid, const char *const *devices) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);

        for (const char *const *d = devices; *d; d++) {
                g_autofree char *name = g_path_get_basename(*d);
                g_autofree char *link = g_strdup_printf("/sys/fs/btrfs/%s/devices/%s", fsid, name);
                g_autofree char *dir = g_path_get_dirname(link);

                make_dir(root, dir + 1);
                sys_link(root, link, *d);
        }
}

void fake_sriov_link(UMockdevTestbed *testbed, const char *pf, const char *vf, unsigned index) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *pf_syspath = fake_pci_device_syspath(pf);
        g_autofree char *vf_syspath = fake_pci_device_syspath(vf);
        g_autofree char *virtfn = g_strdup_printf("%s/virtfn%u", pf_syspath, index);
        g_autofree char *virtfn_target = g_strdup_printf("../%s", vf);
        g_autofree char *physfn = g_strdup_printf("%s/physfn", vf_syspath);
        g_autofree char *physfn_target = g_strdup_printf("../%s", pf);

        make_link(root, virtfn_target, virtfn);
        make_link(root, physfn_target, physfn);
}

void fake_proc_file(UMockdevTestbed *testbed, const char *path, const char *contents) {
        g_autofree char *root = umockdev_testbed_get_root_dir(testbed);
        g_autofree char *full = g_build_filename(root, "proc", path, NULL);
        g_autofree char *dir = g_path_get_dirname(full);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(full, contents, -1, NULL));
}

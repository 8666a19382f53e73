/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

struct udev;
struct mount_entry;

/* Block devices are named by their canonical sysfs path ("/sys/devices/pci0000:00/.../nvme0n1"):
 * sysfs nests devices like the bus topology, so "a block device of this PCI function" is a path
 * prefix test, for disks, partitions and whatever sits between them and the function. */

/* /sys/dev/block/MAJOR:MINOR, resolved. -ENOENT when there is no such block device. */
int block_device_from_devnum(unsigned major, unsigned minor, char **ret_syspath);

/* A device node such as "/dev/nvme0n1p2" or "/dev/mapper/root": by the device number it stands
 * for, or else by its kernel name under /sys/class/block. */
int block_device_from_node(const char *node, char **ret_syspath);

/* Every block device there is, as sysfs paths (/sys/class/block, resolved). */
int block_device_list(char ***ret_syspaths);

/* The kernel name of a block device: the last component of its sysfs path. */
const char *block_device_name(const char *syspath);

/* The block device and, through "slaves", every block device it is built on (dm, md, bcache),
 * appended to *syspaths without duplicates. */
int block_device_add_with_bases(const char *syspath, char ***syspaths);

/* Where a block device physically is: its own sysfs path and, for an NVMe namespace that several
 * controllers share (native NVMe multipath puts its disk under /sys/devices/virtual/nvme-subsystem,
 * below no PCI function), the controllers of its subsystem. */
int block_device_locations(const char *syspath, char ***ret);

/* The block devices a mounted filesystem stores its data on. For filesystems the kernel reports
 * with a device number that is a real block device (ext4, xfs, ...), that device; for those it
 * reports with an anonymous major-0 number, the devices behind them: every device of a btrfs
 * filesystem, each device of a bcachefs mount source, the vdevs of a ZFS pool (as udev's blkid
 * labels them). Filesystems without block devices (tmpfs, proc, 9p, NFS, ...) have none. udev
 * may be NULL: then ZFS pools resolve to nothing. Bases are not included. */
int block_device_for_mount(const struct mount_entry *m, struct udev *udev, char ***ret_syspaths);

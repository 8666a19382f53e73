/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <umockdev.h>

/* Plays the kernel for the umockdev testbed: umockdev's sysfs is plain files and cannot react to
 * writes, so this watches the PCI control files and does what the kernel does for each write —
 * moves the driver links, reads back driver_override, creates and removes /dev/vfio/<group>,
 * emits the uevents — from a thread of its own, since the test's calls into the daemon block.
 *
 * The write-only control files (drivers_probe, rescan, drivers/DRV/bind|unbind|new_id,
 * devices/ADDR/remove|rescan) are FIFOs that the emulator keeps open for reading and writing: a
 * writer's open() returns at once and every write arrives in order, even several in a row, which a
 * plain file (last write wins) would lose. driver_override is a plain file, since it is read back;
 * the emulator watches it with inotify and rewrites it the way the kernel prints it.
 *
 * A hanging unbind (vfio-pci waits in the kernel until the device's user lets go) is modelled by
 * filling that driver's unbind FIFO: the daemon's write() then really blocks, as the kernel's
 * would, until kernel_emulator_release_unbind() drains the filler and the unbind completes. */

struct kernel_emulator;

/* cdev_kernel: binding vfio-pci also creates devices/ADDR/vfio-dev/vfioN, /dev/vfio/devices/vfioN
 * and /dev/iommu, as kernels with CONFIG_VFIO_DEVICE_CDEV do. */
struct kernel_emulator *kernel_emulator_new(UMockdevTestbed *testbed, gboolean cdev_kernel);
void kernel_emulator_free(struct kernel_emulator *e);

/* Hostile modes. */
void kernel_emulator_hang_unbind(struct kernel_emulator *e, const char *driver);
void kernel_emulator_release_unbind(struct kernel_emulator *e, const char *driver);
void kernel_emulator_release_all(struct kernel_emulator *e);
/* The next n drivers_probe writes for address bind nothing. */
void kernel_emulator_fail_probes(struct kernel_emulator *e, const char *address, unsigned n);
/* The driver a probe without override binds from now on ("e1000e" where igb was recorded). The
 * driver's directory is created if the "module" was not loaded yet. */
void kernel_emulator_set_host_driver(struct kernel_emulator *e, const char *address, const char *driver);
/* Races with the daemon, each once, right after the next driver_override write for address: the
 * moment between the daemon's last check of a device and its unbind. on_override runs hook (which
 * may only touch testbed files: the emulator is locked); rebind_on_override has "another
 * program" move the device to driver (its directory is created if needed). */
void kernel_emulator_on_override(struct kernel_emulator *e, const char *address, void (*hook)(gpointer data),
                                 gpointer data);
void kernel_emulator_rebind_on_override(struct kernel_emulator *e, const char *address, const char *driver);
/* The kernel gives /dev/vfio/<group> another device number (a new node, as after all members left
 * vfio-pci and came back): the node is made again, root's and 0600, with minor as its minor. */
void kernel_emulator_renumber_group_node(struct kernel_emulator *e, int group, unsigned minor);
/* udev rewrites /dev/vfio/<group> back to root:root 0600 and reports a "change" uevent. */
void kernel_emulator_udev_reset_node(struct kernel_emulator *e, int group);

/* What the emulator did, one line per action ("unbind igb 0000:59:00.0", "bind vfio-pci
 * 0000:59:00.0", "probe 0000:59:00.0: nothing", "new_id vfio-pci ...", "override 0000:59:00.0
 * vfio-pci"), for asserting order and absence. */
char *kernel_emulator_journal(struct kernel_emulator *e);
/* Index of the first journal line containing needle, or -1. */
int kernel_emulator_journal_find(struct kernel_emulator *e, const char *needle);

/* Waits until the emulator has handled everything written so far (bounded). */
void kernel_emulator_settle(struct kernel_emulator *e);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pci-device.h"

/* The one place that decides whether the host uses a PCI function, so that taking it from its
 * driver would hurt the host. A function is in use when:
 *   - it is the boot VGA device (it drives the console);
 *   - it is a bridge (devices below it would lose hotplug and error reporting);
 *   - it is an SR-IOV physical function with a virtual function on a driver;
 *   - a block device below it backs a mounted filesystem (in any mount namespace, of any kind:
 *     btrfs, ZFS and bcachefs by the devices behind them), holds an active swap area or the
 *     filesystem of a swap file, or has a dm, md or bcache device built on it;
 *   - a virtio device below it carries a mounted 9p or virtio-fs filesystem;
 *   - a network interface below it is up or carries a default route (IPv4 or IPv6);
 *   - a program has one of its block devices open;
 * and, checked only before an operation (HOST_USE_PROBE_EXCLUSIVE), when
 *   - anything holds one of its block devices exclusively (an O_EXCL open fails).
 * Each answer is a sentence naming the holder: "it holds the swap area /dev/nvme1n1". */

/* What the host uses right now: the mounts of every namespace, the swap areas, the holders of
 * block devices, the interfaces that are up. Read once, then asked about any number of devices
 * (ListDevices asks about all of them). */
struct host_use_view;

int host_use_view_new(struct host_use_view **ret);
struct host_use_view *host_use_view_free(struct host_use_view *view);
void host_use_view_freep(struct host_use_view **view);

enum {
        /* Also probe each block device of the function with an exclusive open. Only before an
         * operation: the probe could make someone else's mount fail for the instant it holds the
         * device. */
        HOST_USE_PROBE_EXCLUSIVE = 1 << 0,
};

/* Returns 1 and the sentence (free() it) when the host uses the device, 0 when it does not, or
 * a negative errno (-ENODEV when the device is gone). */
int host_use_find(struct host_use_view *view, const struct pci_device *device, unsigned flags, char **ret_reason);

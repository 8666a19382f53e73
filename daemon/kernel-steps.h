/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "operation.h"
#include "pci-device.h"
#include "state.h"

/* The steps Detach, Attach, Restore and start-up recovery are made of: each one sysfs write, made
 * under the device's kernel lock (kernel-lock.h) and confirmed by reading the device back — the
 * kernel binds and unbinds inside the write, but udev and simulated kernels may not. They run on a
 * worker thread; on failure they set the operation's named error and return a negative errno. */

static inline double usec_to_seconds(uint64_t usec) {
        return (double) usec / 1000000.0;
}

/* The device as it is now; NoSuchDevice when it is gone. */
int kernel_load_device(struct operation *op, const struct pci_address *address, struct pci_device **ret);

/* Writes driver_override; NULL clears it. */
int kernel_set_override(struct operation *op, const struct pci_device *d, const char *driver);

/* Unbinds d from the driver it was seen on — never from whatever its driver link names by now —
 * and waits until it has left; fails when another driver took it meanwhile. */
int kernel_unbind(struct operation *op, const struct pci_device *d);

/* Asks the kernel to probe drivers for d (drivers_probe). */
int kernel_probe(struct operation *op, const struct pci_device *d);

/* Waits until the device is on driver (NULL: on none) and says whether it got there. */
bool kernel_wait_for_driver(struct operation *op, const struct pci_address *address, const char *driver);

/* Puts driver_override back as the record found it, unbinds and reprobes, so the recorded driver
 * gets the device back; as a last resort, removes the device and rescans its parent bridge.
 * *ret_driver is where the device ended. Shared by Restore, a failed call's rollback and
 * start-up recovery; Restore's steps are crash points. */
int kernel_give_back(struct operation *op, const struct device_record *record, char **ret_driver);

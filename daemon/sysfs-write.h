/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pci-address.h"

/* Every write the daemon makes to sysfs goes through here, and every path is built from a parsed,
 * canonical address and an attribute name chosen by the daemon — never from caller text. Each
 * write is made by a child process that keeps lock_fd (the device's kernel lock, kernel-lock.h;
 * -1 for none) until the kernel returns from the write. */

/* Writes value to devices/ADDR/attribute ("driver_override", "driver/unbind", "remove", ...). */
int pci_device_write(const struct pci_address *address, const char *attribute, const char *value, int lock_fd);

/* Writes value to a bus-wide control file: "drivers_probe". */
int pci_bus_write(const char *attribute, const char *value, int lock_fd);

/* Writes value to drivers/DRIVER/attribute ("unbind"). Unlike devices/ADDR/driver/unbind, this
 * names the driver the caller checked: when the device moved to another driver meanwhile, the
 * kernel refuses the write (ENODEV) instead of unbinding whatever the device is on now. */
int pci_driver_write(const char *driver, const char *attribute, const char *value, int lock_fd);

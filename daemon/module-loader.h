/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Makes sure the vfio-pci driver is registered: when /sys/bus/pci/drivers/vfio-pci is missing,
 * loads the module through libkmod (with its dependencies, honouring the modprobe.d blacklist)
 * from kmod_dir (NULL: the running kernel's module directory) and waits up to wait_usec for the
 * driver to appear. libkmod is not touched at all when the driver is already there.
 * Returns 0, or -ENOPKG with *ret_message saying why the module is not available and what to do;
 * other negative errnos for unexpected failures. */
int vfio_pci_driver_ensure(const char *kmod_dir, uint64_t wait_usec, char **ret_message);

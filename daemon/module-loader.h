/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Makes sure the vfio-pci driver is registered: when /sys/bus/pci/drivers/vfio-pci is missing,
 * has systemd start modprobe@vfio_pci.service (the daemon's unit may not load modules itself) or,
 * without systemd, loads the module through libkmod (with its dependencies) from kmod_dir (NULL:
 * the running kernel's module directory), honouring the modprobe.d blacklist either way, and
 * waits up to wait_usec for the driver to appear. Nothing is touched when the driver is there.
 * Returns 0, or -ENOPKG with *ret_message saying why the module is not available and what to do;
 * other negative errnos for unexpected failures. */
int vfio_pci_driver_ensure(const char *kmod_dir, uint64_t wait_usec, char **ret_message);

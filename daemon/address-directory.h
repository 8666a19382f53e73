/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "pci-address.h"

/* Lists the entries of a directory whose names are canonical PCI addresses, sorted; everything
 * else (".", temporary files, non-canonical spellings) is skipped. A missing directory is an
 * empty list. Used for /sys/bus/pci/devices and for the daemon's state directory. */
int address_directory_list(const char *path, struct pci_address **ret, size_t *ret_count);

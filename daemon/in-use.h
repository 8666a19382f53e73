/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pci-address.h"

/* Whether taking the device (or any PCI function below it, when it is a bridge) away from its
 * host driver would hurt the host: it backs a mounted filesystem, has a network interface that is
 * up or carries the default route, or is the boot VGA device that drives the console.
 * Returns 1 and a sentence naming the holder ("the network interface enp89s0 is up"), 0 when the
 * host does not use it, or a negative errno. */
int pci_device_find_host_user(const struct pci_address *address, char **ret_holder);

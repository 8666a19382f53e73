/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pci-address.h"

/* Checks a PCI address given on the command line and writes its canonical spelling. On a
 * malformed address prints why, with the accepted forms, and returns -EINVAL (exit status 2).
 * Every verb that takes a device checks it here first, so a typo is answered even when the
 * daemon is not running. */
int address_argument_parse(const char *text, char canonical[static PCI_ADDRESS_STRING_MAX]);

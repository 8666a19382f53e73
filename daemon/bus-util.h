/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "pci-address.h"

/* The uid the bus reports for the sender, never one the caller claims. */
int bus_message_caller_uid(sd_bus_message *m, uid_t *ret);

/* Caller text is echoed in logs and error messages only when it is short and printable; anything
 * else is summarized, so a hostile string can neither flood the journal nor forge log lines. */
const char *bus_printable_argument(const char *text, char *buf, size_t size);

/* Parses an address argument; on failure sets the named InvalidAddress error and returns -EINVAL. */
int bus_parse_address(const char *text, struct pci_address *ret, sd_bus_error *error);

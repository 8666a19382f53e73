/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A PCI address in the kernel's sysfs form: DOMAIN:BUS:SLOT.FUNCTION. Domains are 16 bits on
 * most machines but wider on some (Intel VMD exposes 10000:e0:00.0), so the domain is 32 bits. */
struct pci_address {
        uint32_t domain;
        uint8_t bus;
        uint8_t slot;     /* 0..0x1f */
        uint8_t function; /* 0..7 */
};

/* "ffffffff:ff:1f.7" plus NUL */
#define PCI_ADDRESS_STRING_MAX 17

/* Longest text the parser looks at; anything longer is rejected before parsing. */
#define PCI_ADDRESS_INPUT_MAX 32

/* Parses "BB:SS.F" (domain 0) or "DDDD:BB:SS.F" with 4..8 domain hex digits, upper or lower
 * case. Nothing else is accepted: no whitespace, signs, prefixes, separators or trailing text.
 * Returns 0 or -EINVAL. */
int pci_address_parse(const char *text, struct pci_address *ret);

/* Writes the canonical kernel spelling: lower case, domain zero-padded to at least 4 digits. */
const char *pci_address_format(const struct pci_address *address, char buf[static PCI_ADDRESS_STRING_MAX]);

/* Parses and writes back the canonical form in one go. Returns 0 or -EINVAL. */
int pci_address_canonicalize(const char *text, char buf[static PCI_ADDRESS_STRING_MAX]);

bool pci_address_equal(const struct pci_address *a, const struct pci_address *b);

/* Orders by domain, bus, slot, function, as lspci does. */
int pci_address_compare(const struct pci_address *a, const struct pci_address *b);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the address parser, the first code that touches caller text. Whatever it
 * accepts must format to a canonical address that parses back to the same address, and contain
 * nothing but hex digits, ':' and '.', since it becomes part of a sysfs path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pci-address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char text[64], canonical[PCI_ADDRESS_STRING_MAX];
        struct pci_address a, b;

        if (size >= sizeof(text))
                size = sizeof(text) - 1;
        memcpy(text, data, size);
        text[size] = '\0';

        if (pci_address_parse(text, &a) < 0)
                return 0;

        pci_address_format(&a, canonical);
        if (strspn(canonical, "0123456789abcdef:.") != strlen(canonical))
                abort();
        if (pci_address_parse(canonical, &b) < 0 || !pci_address_equal(&a, &b))
                abort();
        if (a.slot > 0x1f || a.function > 7)
                abort();
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pci-address.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Reads between min_digits and max_digits hex digits; strtoul() would accept signs, spaces and
 * "0x", which have no place in an address that ends up in a sysfs path. */
static const char *parse_hex(const char *p, unsigned min_digits, unsigned max_digits, uint32_t *ret) {
        uint32_t value = 0;
        unsigned n = 0;

        for (; n < max_digits; n++, p++) {
                int v = hex_value(*p);
                if (v < 0)
                        break;
                value = (value << 4) | (uint32_t) v;
        }
        if (n < min_digits || hex_value(*p) >= 0)
                return NULL;
        *ret = value;
        return p;
}

int pci_address_parse(const char *text, struct pci_address *ret) {
        uint32_t domain = 0, bus, slot, function;
        const char *p;

        if (!text || !ret)
                return -EINVAL;
        if (strnlen(text, PCI_ADDRESS_INPUT_MAX + 1) > PCI_ADDRESS_INPUT_MAX)
                return -EINVAL;

        /* Two colons means a domain is present. */
        p = strchr(text, ':');
        if (p && strchr(p + 1, ':')) {
                p = parse_hex(text, 4, 8, &domain);
                if (!p || *p != ':')
                        return -EINVAL;
                p++;
        } else
                p = text;

        p = parse_hex(p, 2, 2, &bus);
        if (!p || *p != ':')
                return -EINVAL;
        p = parse_hex(p + 1, 2, 2, &slot);
        if (!p || *p != '.' || slot > 0x1f)
                return -EINVAL;
        p = parse_hex(p + 1, 1, 1, &function);
        if (!p || *p != '\0' || function > 7)
                return -EINVAL;

        *ret = (struct pci_address) {
                .domain = domain,
                .bus = (uint8_t) bus,
                .slot = (uint8_t) slot,
                .function = (uint8_t) function,
        };
        return 0;
}

const char *pci_address_format(const struct pci_address *a, char buf[static PCI_ADDRESS_STRING_MAX]) {
        snprintf(buf, PCI_ADDRESS_STRING_MAX, "%04x:%02x:%02x.%x",
                 (unsigned) a->domain, (unsigned) a->bus, (unsigned) a->slot, (unsigned) a->function);
        return buf;
}

int pci_address_canonicalize(const char *text, char buf[static PCI_ADDRESS_STRING_MAX]) {
        struct pci_address a;
        int r = pci_address_parse(text, &a);
        if (r < 0)
                return r;
        pci_address_format(&a, buf);
        return 0;
}

bool pci_address_equal(const struct pci_address *a, const struct pci_address *b) {
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
               a->function == b->function;
}

int pci_address_compare(const struct pci_address *a, const struct pci_address *b) {
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->slot != b->slot)
                return a->slot < b->slot ? -1 : 1;
        return (int) a->function - (int) b->function;
}

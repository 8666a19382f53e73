/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "vfio-passthrough-bus.h"

int bus_message_caller_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}

const char *bus_printable_argument(const char *text, char *buf, size_t size) {
        size_t n = strnlen(text, PCI_ADDRESS_INPUT_MAX + 1);

        if (n > PCI_ADDRESS_INPUT_MAX) {
                snprintf(buf, size, "(a %zu-byte string)", strlen(text));
                return buf;
        }
        for (size_t i = 0; i < n; i++)
                if (text[i] < 0x20 || text[i] > 0x7e || text[i] == '\'') {
                        snprintf(buf, size, "(a string with unprintable characters)");
                        return buf;
                }
        snprintf(buf, size, "'%s'", text);
        return buf;
}

int bus_parse_address(const char *text, struct pci_address *ret, sd_bus_error *error) {
        char shown[64];

        if (pci_address_parse(text, ret) >= 0)
                return 0;
        return sd_bus_error_setf(error, VFIO_PT_ERROR_INVALID_ADDRESS,
                                 "%s is not a PCI address: use DOMAIN:BUS:SLOT.FUNCTION like 0000:59:00.0, "
                                 "or BUS:SLOT.FUNCTION like 59:00.0 for domain 0000.",
                                 bus_printable_argument(text, shown, sizeof(shown)));
}

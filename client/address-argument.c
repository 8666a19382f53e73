/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "address-argument.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "vfio-passthrough-bus.h"

/* Longer input is cut when echoed back: the message is about the form, not the exact text. */
#define ECHO_MAX 40

int address_argument_parse(const char *text, char canonical[static PCI_ADDRESS_STRING_MAX]) {
        char shown[ECHO_MAX + sizeof("...")];
        size_t n;

        if (pci_address_canonicalize(text, canonical) >= 0)
                return 0;

        /* Echo the argument without its control characters: they would reach the terminal. */
        n = strnlen(text, ECHO_MAX + 1);
        snprintf(shown, sizeof(shown), "%.*s%s", (int) (n > ECHO_MAX ? ECHO_MAX : n), text,
                 n > ECHO_MAX ? "..." : "");
        for (char *p = shown; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';

        log_error(VFIO_PT_ERROR_INVALID_ADDRESS,
                  "'%s' is not a PCI address. Expected DOMAIN:BUS:SLOT.FUNCTION like 0000:59:00.0, or "
                  "BUS:SLOT.FUNCTION like 59:00.0 for domain 0000.",
                  shown);
        return -EINVAL;
}

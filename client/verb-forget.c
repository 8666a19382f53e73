/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* forget: drop the daemon's record of a device (one that cannot be read, or is no longer wanted),
 * leaving the device as it is. An administrator's action. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "address-argument.h"
#include "bus-call.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "operation-call.h"
#include "verbs.h"

int verb_forget(int argc, char *argv[], const struct options *options) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char address[PCI_ADDRESS_STRING_MAX];
        int r;

        r = address_argument_parse(argv[1], address);
        if (r < 0)
                return r;
        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = operation_call(bus, options, "Forget", address, NULL, &reply);
        if (r < 0)
                return r;

        if (options->quiet)
                return 0;
        if (options->json) {
                struct json_writer w;

                json_writer_init(&w, stdout);
                json_begin_object(&w);
                json_key(&w, "address");
                json_string(&w, address);
                json_end_object(&w);
                r = json_writer_finish(&w);
                if (r < 0 && !ferror(stdout))
                        log_error(NULL, "failed to print the result: %s", strerror(-r));
                return r < 0 ? -EIO : 0;
        }
        printf("%s: record dropped; the device stays as it is, and restore no longer applies to it.\n", address);
        return 0;
}

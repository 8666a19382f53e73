/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "authorize.h"

#include <string.h>

#include "bus-util.h"
#include "log.h"

void authorize(struct context *c, sd_bus_message *m, const char *action, const struct authorize_details *details,
               authorize_done_t done, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uid_t uid;
        int r;

        r = bus_message_caller_uid(m, &uid);
        if (r < 0) {
                r = sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
                                      "Cannot tell who is calling (%s), so %s is refused.", strerror(-r), action);
                done(c, m, r, &error, userdata);
                return;
        }
        if (uid != 0) {
                log_notice("Refused %s on %s for uid %u: not root.", action, details->address, (unsigned) uid);
                r = sd_bus_error_setf(&error, SD_BUS_ERROR_ACCESS_DENIED,
                                      "%s requires root until polkit support is added: run the command with "
                                      "sudo, or as root.",
                                      action);
                done(c, m, r, &error, userdata);
                return;
        }
        done(c, m, 0, NULL, userdata);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "operation-call.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-call.h"
#include "bus-path.h"
#include "log.h"
#include "macro.h"
#include "vfio-passthrough-bus.h"
#include "polkit-agent.h"

static int build_call(sd_bus_message *call, const struct options *options, const char *user) {
        int r;

        /* Without the flag the daemon answers InteractiveAuthorizationRequired instead of letting
         * polkit ask; with it, polkit asks whichever agent serves this process or session. */
        r = sd_bus_message_set_allow_interactive_authorization(call, options->ask_password);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(call, 'a', "{sv}");
        if (r >= 0 && user && *user)
                r = sd_bus_message_append(call, "{sv}", "user", "s", user);
        if (r >= 0 && (options->operation_flags & VFIO_PT_FLAG_FORCE))
                r = sd_bus_message_append(call, "{sv}", "force", "b", 1);
        if (r >= 0 && (options->operation_flags & VFIO_PT_FLAG_GROUP))
                r = sd_bus_message_append(call, "{sv}", "group", "b", 1);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(call);
}

int operation_call(sd_bus *bus, const struct options *options, const char *method, const char *address,
                   const char *user, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(polkit_agent_closep) pid_t agent = 0;
        int r;

        struct pci_address a;
        char path[BUS_PATH_MAX];

        if (pci_address_parse(address, &a) < 0)
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &call, VFIO_PT_BUS_NAME, bus_device_path(&a, path),
                                           VFIO_PT_DEVICE_INTERFACE, method);
        if (r < 0) {
                log_error(NULL, "failed to create the %s call: %s", method, strerror(-r));
                return r;
        }
        r = build_call(call, options, user);
        if (r < 0) {
                log_error(NULL, "failed to build the %s call: %s", method, strerror(-r));
                return r;
        }

        /* Only around the call: the agent is there to answer polkit while the daemon asks. */
        polkit_agent_open(options->ask_password, &agent);
        return bus_call_operation(bus, call, ret_reply);
}

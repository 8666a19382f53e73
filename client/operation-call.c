/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "operation-call.h"

#include <stdio.h>
#include <string.h>

#include "bus-call.h"
#include "macro.h"
#include "polkit-agent.h"

static int build_call(sd_bus_message *call, const struct options *options, const char *address, const char *user) {
        int r;

        /* Without the flag the daemon answers InteractiveAuthorizationRequired instead of letting
         * polkit ask; with it, polkit asks whichever agent serves this process or session. */
        r = sd_bus_message_set_allow_interactive_authorization(call, options->ask_password);
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "s", address);
        if (r >= 0 && user)
                r = sd_bus_message_append(call, "s", user);
        if (r >= 0)
                r = sd_bus_message_append(call, "t", options->operation_flags);
        return r;
}

int operation_call(sd_bus *bus, const struct options *options, const char *method, const char *address,
                   const char *user, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(polkit_agent_closep) pid_t agent = 0;
        int r;

        r = bus_new_method_call(bus, method, &call);
        if (r < 0)
                return r;
        r = build_call(call, options, address, user);
        if (r < 0) {
                fprintf(stderr, "vfio-passthroughctl: failed to build the %s call: %s\n", method, strerror(-r));
                return r;
        }

        /* Only around the call: the agent is there to answer polkit while the daemon asks. */
        polkit_agent_open(options->ask_password, &agent);
        return bus_call_operation(bus, call, ret_reply);
}

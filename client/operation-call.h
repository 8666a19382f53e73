/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "verbs.h"

/* Calls Detach, Attach, Restore, Forget (user NULL) or Grant (user given, "" for the caller) on
 * the Device object of a canonical address, options->operation_flags as its options. Polkit may ask for a password
 * (allow-interactive-authorization, and a pkttyagent on a terminal) unless --no-ask-password
 * was given. Prints its own errors and returns like bus_call(). */
int operation_call(sd_bus *bus, const struct options *options, const char *method, const char *address,
                   const char *user, sd_bus_message **ret_reply);

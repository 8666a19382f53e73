/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "operation.h"

/* The privileged methods: Detach, Attach, Restore, Grant, Forget. Each handler checks its
 * arguments, looks up a user off the event loop where it needs one, asks authorize() about every
 * device the call touches and hands the operation to a worker; the reply is sent on completion. */
int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_restore(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_grant(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_forget(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* What those handlers do once the arguments are read; also for the Device object's methods
 * (object_reply: their reply shapes). Returns 1 when the call was taken (answered later). */
struct context;
int bus_operation_start(sd_bus_message *m, struct context *c, enum operation_kind kind, const char *address,
                        const char *user, uint64_t flags, bool object_reply, sd_bus_error *error);

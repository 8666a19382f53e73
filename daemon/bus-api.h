/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* Exports org.vfio.Passthrough1 on the context's bus. */
int bus_api_register(struct context *c);

/* Tells subscribers that a device appeared, went away or changed driver. */
int bus_api_emit_device_changed(struct context *c, const char *address, const char *action, const char *driver);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

/* A private dbus-daemon configured like the system bus (tests/data/system-bus.conf.in): default
 * deny for method calls, names owned only as the included policies allow. The one bus of the
 * service tests and the polkit tests. */
struct private_bus {
        char *address;
        GPid pid;
        GDBusConnection *connection; /* the test's own (root's) */
};

/* Starts the bus with its socket in dir, which callers of other users must be able to reach.
 * policies: NULL-terminated list of bus policy files to include, as installed (a missing one is
 * skipped, as the system bus does). The bus runs without LD_PRELOAD. */
void private_bus_start(struct private_bus *bus, const char *dir, const char *const *policies);
void private_bus_stop(struct private_bus *bus);

gboolean private_bus_name_has_owner(struct private_bus *bus, const char *name);
/* Waits (bounded) until name has an owner, or with owned FALSE until it has none. */
void private_bus_wait_for_name(struct private_bus *bus, const char *name, gboolean owned);

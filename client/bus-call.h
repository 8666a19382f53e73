/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Talking to vfio-passthroughd. Every function here prints its own one-line error to stderr,
 * so callers only pass the negative errno up. */

/* Connects to the system bus (or DBUS_SYSTEM_BUS_ADDRESS) and registers the project's error
 * names. Returns 0 or -ENOTCONN: why the connection failed has been printed, and the caller
 * must not mistake, say, an -EINVAL for a bad bus address for a usage error. */
int bus_connect(sd_bus **ret);

/* Starts a call of one of the daemon's methods; append arguments, then bus_call() it. Kept
 * separate so a verb can set flags on the message first (interactive authorization). */
int bus_new_method_call(sd_bus *bus, const char *member, sd_bus_message **ret);

/* Sends a method call and waits for the reply, with sd-bus' default timeout (25 s). On failure
 * prints one line and returns: the errno of the daemon's error when it is one of our named
 * errors (-EINVAL for InvalidAddress, -ENODEV for NoSuchDevice, ...); -EACCES when the caller
 * was refused (AccessDenied, InteractiveAuthorizationRequired); -ETIMEDOUT when no reply came
 * in time; otherwise -EREMOTEIO, because only our own errors say something about what the
 * caller asked for. */
int bus_call(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply);

/* The same for a call that changes a device (Detach, Attach, Restore, Grant): with a timeout
 * long enough for a person to answer a password prompt and for a slow unbind (120 s), and,
 * when it runs out, the advice to check what state the device was left in. */
int bus_call_operation(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply);

/* Reads an a{sv}, handing each entry's key to read_value, which reads (or skips) the variant. */
int bus_read_dictionary(sd_bus_message *m, int (*read_value)(sd_bus_message *m, const char *key, void *userdata),
                        void *userdata);

/* Prints that the reply could not be understood and returns -EBADMSG. */
int bus_log_parse_error(int error);

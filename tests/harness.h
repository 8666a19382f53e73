/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <umockdev.h>

/* One private world per test: a umockdev testbed holding the fake PCI tree, a private
 * dbus-daemon configured like the system bus, and the real vfio-passthroughd on it, in a mount
 * namespace where the host's /sys is read-only. */
struct harness {
        UMockdevTestbed *testbed;
        char *tmpdir;
        char *bus_address;
        GPid bus_pid;
        GPid daemon_pid;
        char *daemon_log; /* the daemon's stderr */
        GDBusConnection *connection;
};

void harness_start(struct harness *h);
void harness_stop(struct harness *h);

/* Stops the daemon with SIGTERM and asserts that it exits cleanly; the bus stays up. */
void harness_stop_daemon(struct harness *h);

/* Runs vfio-passthroughctl against the harness' bus. Returns the exit status. */
int harness_run_ctl(struct harness *h, char **ret_stdout, char **ret_stderr, const char *first_arg, ...)
        G_GNUC_NULL_TERMINATED;

/* Runs busctl against the harness' bus. Returns the exit status. */
int harness_run_busctl(struct harness *h, char **ret_stdout, char **ret_stderr, const char *first_arg, ...)
        G_GNUC_NULL_TERMINATED;

/* Calls a method of the daemon; returns the reply or NULL with *error set. */
GVariant *harness_call(struct harness *h, const char *method, GVariant *parameters, const char *reply_type,
                       GError **error);

/* Whether the daemon process is still alive (it must survive every bad input). */
gboolean harness_daemon_alive(struct harness *h);

/* The daemon's log so far. */
char *harness_daemon_log(struct harness *h);

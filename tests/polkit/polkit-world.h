/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "polkitd.h"
#include "private-bus.h"

/* The world of one polkit test: the private system-like bus, the real polkitd on it (see
 * polkitd.h), and the stand-in service under test. Needs root: polkitd starts as root and drops
 * to its own user, and callers run as test users. */
struct polkit_world {
        char *tmpdir;
        struct private_bus bus;
        GPid polkitd_pid;
        GPid service_pid;
        char *service_log;
};

/* rules: NULL-terminated list of file name, JavaScript text, file name, text, ... (may be NULL).
 * run_polkitd FALSE: a system without polkit. */
void polkit_world_start(struct polkit_world *w, const char *const *rules, gboolean run_polkitd);
void polkit_world_stop(struct polkit_world *w);

/* Starts the service under test (SERVICE_PATH, or $VFIO_PT_POLKIT_TEST_SERVICE) on the bus. */
void polkit_world_start_service(struct polkit_world *w, const char *program);
/* Stops it and returns its wait status. */
int polkit_world_stop_service(struct polkit_world *w);
char *polkit_world_service_log(struct polkit_world *w);

/* Kills polkitd the hard way, as a crash would. */
void polkit_world_kill_polkitd(struct polkit_world *w);

/* Runs argv (searched in PATH) as user (NULL: root), with DBUS_SYSTEM_BUS_ADDRESS set to the
 * world's bus. Returns the exit status; stdout/stderr are returned when asked for. */
int polkit_world_run_as(struct polkit_world *w, const char *user, const char *const *argv, char **ret_stdout,
                        char **ret_stderr);
/* Starts argv as user without waiting; stdout goes to *ret_stdout_fd. */
GPid polkit_world_spawn_as(struct polkit_world *w, const char *user, const char *const *argv, int *ret_stdout_fd);

/* Waits until name has an owner on the world's bus (or not, with owned FALSE). */
void polkit_world_wait_for_name(struct polkit_world *w, const char *name, gboolean owned);

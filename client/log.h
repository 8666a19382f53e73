/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "macro.h"

/* How the client reports an error: one line on stderr for people, "vfio-passthroughctl: MESSAGE"
 * and, when there is one, a HINT of what to do next; and, for --json, the first error of the run
 * kept, so that main() can print it as one JSON object on stdout instead of the verb's output.
 *
 * name: the D-Bus error name that says what kind of failure it is (the daemon's own, a bus
 * daemon's, or the nearest one for a failure of the client itself); NULL: let main() derive one
 * from the errno it gets. Scripts read the name; the message is for people. */
_printf_(3, 4) void log_error_hint(const char *name, const char *hint, const char *format, ...);
#define log_error(name, ...) log_error_hint(name, NULL, __VA_ARGS__)

/* Writes the first error as one JSON object on one line, {"error": NAME, "message": MESSAGE,
 * "exit_status": N}, to f. With no error logged, fallback_errno (negative) gives the name and
 * the message. Returns 0 or a negative errno. */
int log_write_json_error(FILE *f, int fallback_errno, int exit_status);

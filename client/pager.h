/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* A pager for long output on a terminal, as systemd's tools have one: the first of
 * $VFIO_PASSTHROUGHCTL_PAGER, $PAGER, "less" (with LESS=FRXMK unless LESS is set) and "more".
 * A variable is split on blanks into the program and its arguments and run with execvp(), never
 * by a shell; set to "" or "cat" it means no pager. */

/* Starts the pager and points stdout at it, when stdout is a terminal and a pager is wanted.
 * Returns the pager's pid, 0 when there is none, or a negative errno. */
pid_t pager_open(void);

/* Flushes and closes stdout, so that the pager sees the end, and waits for it to exit (the user
 * reading until they quit it). */
void pager_close(pid_t pager);
